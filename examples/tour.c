#include "recycle.h"
int main(void) { rcy_runtime_t *rt = rcy_runtime_new(NULL); rcy_runtime_destroy(rt); return 0; }
