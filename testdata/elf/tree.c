/* Objects for the dependency-tree tests: built as libb.so, liba.so
 * (needs libb through RUNPATH $ORIGIN) and an executable (needs liba
 * through RPATH $ORIGIN/../lib). */
#ifdef LIBB
int b(void) { return 2; }
#elif defined(LIBA)
int b(void);
int a(void) { return b() + 1; }
#else
int a(void);
int main(void) { return a() == 3 ? 0 : 1; }
#endif
