/* A stand-in for another heap of the suite with options of its own: the unit
 * test's copy of common/options.c is built knowing these names, as the
 * prefixed build of a heap knows every other heap's (see the Makefile). */
#ifndef FIXTURE_HEAP_OPTIONS_H
#define FIXTURE_HEAP_OPTIONS_H
#define HEAP_OPTION_LIST(X)                                                 \
  X(fixture_knob, FIXTURE_KNOB, 0, 0, 9, "", 0, "an option of another heap") \
  X(fixture_off, FIXTURE_OFF, 1, 0, 1, "off|on", OPT_SECURE, "a weakening one")
#endif
