# verify/verify.mk - build the verify/ programs into $(BUILD)/verify/.
# Included by the top Makefile, so paths are relative to the repository root.
# The programs see a heap only through LD_PRELOAD (run by verify/run_tests.sh),
# so they link nothing of ours.
#
# -fno-builtin: the compiler must not fold malloc(SIZE_MAX) to NULL nor drop a
# malloc/free pair; the checks are about the library, not the optimiser.
# The memcheck programs are built at -O0 so each access stays on its line.

VERIFY_OUT   := $(BUILD)/verify
VERIFY_HDRS  := verify/vtest.h verify/contract.h harness/testkit.h
VERIFY_CFLAGS = $(HARNESS_CFLAGS) -fno-builtin
VERIFY_CXXFLAGS = -std=gnu++17 -Wall -Wextra -Werror -O2 $(or $(DWARF),-g) -fno-builtin -fsized-deallocation -pthread -Iharness

VERIFY_PROGS := contract contract_cxx stress fork dying mc_bugs mc_clean
VERIFY_BINS  := $(addprefix $(VERIFY_OUT)/,$(VERIFY_PROGS))
CONTRACT_SRC := verify/contract.c verify/contract_edge.c verify/contract_blocks.c

.PHONY: verify-build
verify-build: $(VERIFY_BINS)

$(VERIFY_OUT)/contract: $(CONTRACT_SRC) $(VERIFY_HDRS) verify/verify.mk
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(VERIFY_CFLAGS) -o $@ $(CONTRACT_SRC) -ldl

$(VERIFY_OUT)/contract_cxx: verify/contract_cxx.cc verify/vtest.h harness/testkit.h verify/verify.mk
	@mkdir -p $(@D)
	@echo "  CXX     $@"
	$(Q)$(CXX) $(VERIFY_CXXFLAGS) -o $@ $< -ldl

$(VERIFY_OUT)/stress $(VERIFY_OUT)/fork $(VERIFY_OUT)/dying: $(VERIFY_OUT)/%: verify/%.c verify/vtest.h verify/verify.mk
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(VERIFY_CFLAGS) -o $@ $< -ldl

$(VERIFY_OUT)/mc_bugs $(VERIFY_OUT)/mc_clean: $(VERIFY_OUT)/%: verify/%.c verify/verify.mk
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(VERIFY_CFLAGS) -O0 -o $@ $<

# The misuse matrix (verify/misuse/): one program, one case per invocation.
# -O1 and -fno-builtin keep every bad access where the source puts it.
MISUSE_SRC := $(wildcard verify/misuse/*.c)
MISUSE_OBJ := $(patsubst verify/misuse/%.c,$(VERIFY_OUT)/misuse-obj/%.o,$(MISUSE_SRC)) \
              $(VERIFY_OUT)/misuse-obj/cases_cxx.o
MISUSE_HDRS := $(wildcard verify/misuse/*.h)
verify-build: $(VERIFY_OUT)/misuse

$(VERIFY_OUT)/misuse-obj/%.o: verify/misuse/%.c $(MISUSE_HDRS) verify/verify.mk
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(VERIFY_CFLAGS) -O1 -c $< -o $@
$(VERIFY_OUT)/misuse-obj/cases_cxx.o: verify/misuse/cases_cxx.cc $(MISUSE_HDRS) verify/verify.mk
	@mkdir -p $(@D)
	@echo "  CXX     $@"
	$(Q)$(CXX) $(VERIFY_CXXFLAGS) -O1 -c $< -o $@
$(VERIFY_OUT)/misuse: $(MISUSE_OBJ)
	@echo "  LD      $@"
	$(Q)$(CXX) -o $@ $^ -ldl
