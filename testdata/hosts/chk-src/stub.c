/* One exported symbol, so that the library is a real shared object. */
int gzdoctor_fixture_stub(void) { return 0; }
