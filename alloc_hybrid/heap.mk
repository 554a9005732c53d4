# alloc_hybrid is alloc_unsafe's in-band engine compiled with this folder's
# heap_policy.h (the top Makefile reads this line).
hybrid_ENGINE := unsafe
