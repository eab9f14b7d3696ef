// A C++ shared object for --symbols: mangled names to demangle.
namespace gazelle {
struct Socket {
	int fd;
	int bind(const char *addr, unsigned short port);
};
int Socket::bind(const char *addr, unsigned short port) { return addr ? port + fd : -1; }
} // namespace gazelle
