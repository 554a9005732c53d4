/*
 * misuse.h - misuse mode (ops.h, MISUSE): what harness.c sees of misuse.c.
 *
 * The classes a heap claims come from its claims.tsv, turned into
 * FUZZ_CLAIMS(X) X("class", "how", "message") by fuzz/fuzz.mk at build time
 * ($(BUILD)/fuzz/claims/<heap>/fuzz_claims.h): no copy of the table here.
 */
#ifndef FUZZ_MISUSE_H
#define FUZZ_MISUSE_H

#include "model.h"
#include "ops.h"

extern const char *const misuse_names[MISUSE_COUNT];
extern const unsigned char misuse_nargs[MISUSE_COUNT];

/* Does this heap claim (with "abort") the class misuse `mu` commits? */
int misuse_claimed(enum fuzz_misuse mu);

/* Commit `mu` with operands `a` in a forked child and check how the child
 * died: it must die with a line holding the claim's message (model_fail
 * "misuse" if it survives, dies another way, or prints the wrong line).
 * Returns 1 if it ran (the input ends), 0 if it does not apply to the
 * model's blocks (empty slot, wrong size or kind). */
int misuse_run(enum fuzz_misuse mu, const unsigned char *a, const struct model *m);

/* Misuse operations that ran and ended as claimed, in this process. */
extern unsigned long misuse_checked;
/* Misuse operations whose child found nothing to commit them on (misuse.c). */
extern unsigned long misuse_skipped;

#endif
