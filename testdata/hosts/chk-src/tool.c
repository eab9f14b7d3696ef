/* A stand-in capture tool: only its DT_NEEDED entries matter. */
extern int gzdoctor_fixture_stub(void);
int main(void) { return gzdoctor_fixture_stub(); }
