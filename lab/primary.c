/* SPDX-License-Identifier: MIT
 *
 * lab-primary: a small DPDK primary process that stands in for Gazelle's
 * lstack in gzdoctor's tests. It initialises the EAL, calls
 * rte_pdump_init() (unless told not to), starts every ethdev port that the
 * EAL arguments created (vdevs), transmits a mix of well-formed frames at a
 * fixed rate, polls rx, and keeps counters that it writes to a stats file.
 *
 *   lab-primary [EAL args] -- [--no-pdump-init] [--rate N] [--stats FILE]
 *                             [--count N] [--udp-clients N] [--ports LIST]
 *                             [--reflect]
 *
 * The default vdev (net_ring0) hands every transmitted mbuf back to rx, so a
 * pdump capture holds real frames in both directions.
 *
 * This file is the primary itself; main.c makes it an executable and
 * lstack.c a shared library whose constructor starts it, as Gazelle's
 * liblstack.so does.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_ethdev.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pdump.h>
#include <rte_tcp.h>
#include <rte_udp.h>
#include <rte_version.h>

/* rte_ether_hdr's addresses were d_addr/s_addr before 21.11 (Debian 11's 20.11). */
#if RTE_VERSION < RTE_VERSION_NUM(21, 11, 0, 0)
#define ETH_DST d_addr
#define ETH_SRC s_addr
#else
#define ETH_DST dst_addr
#define ETH_SRC src_addr
#endif

#include "primary.h"

#define MAX_PORTS 8
#define BURST 32
#define NB_MBUFS 4095
#define MBUF_CACHE 128
#define RING_DESC 512
#define STATS_INTERVAL_MS 200
#define MAX_CLIENTS 64

static volatile sig_atomic_t quit;

struct opts {
	bool no_pdump_init;
	uint64_t rate;	/* packets per second, 0 = do not transmit */
	uint64_t count; /* stop after this many packets sent, 0 = no limit */
	uint64_t clients; /* UDP clients 192.168.1.10+i:10001+i */
	const char *stats;
	uint32_t port_mask; /* --ports: the ports to drive, 0 = all */
	bool reflect;	    /* answer ARP, reflect IPv4 back to its sender */
};

struct counters {
	uint64_t tx_packets, tx_bytes, tx_dropped;
	uint64_t rx_packets, rx_bytes;
};

/* The kinds of frame the lab sends, in the order of one traffic cycle. The
 * three UDP clients dominate so that host/port filters have most to select. */
enum kind {
	K_UDP_REQ,   /* 192.168.1.(10+i):(10001+i) -> 192.168.1.1:8080 */
	K_UDP_REPLY, /* and back */
	K_TCP_SYN,
	K_TCP_SYNACK,
	K_TCP_ACK,
	K_ICMP_REQ,
	K_ICMP_REPLY,
	K_ARP_REQ,
	K_ARP_REPLY,
	K_VLAN_UDP, /* VLAN 100: 10.0.100.2:5000 -> 10.0.100.1:5001 */
	K_IPV6_UDP, /* fd00::10:6000 -> fd00::1:8080 */
};

struct slot {
	enum kind kind;
	int client; /* UDP client slot 0..2 in one cycle */
};

static const struct slot cycle[] = {
	{K_UDP_REQ, 0}, {K_UDP_REPLY, 0}, {K_UDP_REQ, 1}, {K_UDP_REPLY, 1},
	{K_UDP_REQ, 2}, {K_UDP_REPLY, 2}, {K_TCP_SYN, 0}, {K_UDP_REQ, 0},
	{K_UDP_REQ, 1}, {K_UDP_REQ, 2},	  {K_TCP_SYNACK, 0}, {K_ICMP_REQ, 0},
	{K_UDP_REPLY, 0}, {K_UDP_REPLY, 1}, {K_UDP_REPLY, 2}, {K_TCP_ACK, 0},
	{K_ICMP_REPLY, 0}, {K_ARP_REQ, 0}, {K_VLAN_UDP, 0}, {K_IPV6_UDP, 0},
	{K_ARP_REPLY, 0}, {K_UDP_REQ, 0}, {K_UDP_REQ, 1}, {K_UDP_REQ, 2},
};
#define CYCLE_LEN (sizeof(cycle) / sizeof(cycle[0]))

#define IP4(a, b, c, d) RTE_IPV4(a, b, c, d)
static const uint32_t server_ip = IP4(192, 168, 1, 1);
static const uint16_t server_port = 8080;
static uint64_t nb_clients = 3;
static uint32_t client_ip(uint64_t i) { return IP4(192, 168, 1, 10) + (uint32_t)i; }
static uint16_t client_port(uint64_t i) { return (uint16_t)(10001 + i); }
static const uint32_t tcp_client_ip = IP4(192, 168, 1, 20);
static const uint32_t icmp_client_ip = IP4(192, 168, 1, 30);

static const struct rte_ether_addr server_mac = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
static const struct rte_ether_addr client_mac = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x10}};

static void on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [EAL args] -- [--no-pdump-init] [--rate N] [--stats FILE] [--count N]\n"
		"       [--udp-clients N] [--ports LIST] [--reflect]\n"
		"  --no-pdump-init  do not call rte_pdump_init() (pdump cannot attach)\n"
		"  --rate N         packets per second to transmit (default 10000, 0 = none)\n"
		"  --stats FILE     write counters to FILE every %d ms (atomically)\n"
		"  --count N        exit after N packets were sent\n"
		"  --udp-clients N  UDP clients 192.168.1.10+i:10001+i, i < N (default 3, max %d)\n"
		"  --ports LIST     drive only these port ids (default: all), e.g. 1\n"
		"  --reflect        answer ARP and send IPv4 frames back to their sender\n",
		prog, STATS_INTERVAL_MS, MAX_CLIENTS);
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

/* "1" or "0,2": a mask of port ids below MAX_PORTS. */
static int parse_ports(const char *s, uint32_t *mask)
{
	char buf[64], *save = NULL;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return -1;
	*mask = 0;
	for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		uint64_t v;
		if (parse_u64(t, &v) < 0 || v >= MAX_PORTS)
			return -1;
		*mask |= 1u << v;
	}
	return *mask ? 0 : -1;
}

static int parse_app_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{"no-pdump-init", no_argument, NULL, 'n'},
		{"rate", required_argument, NULL, 'r'},
		{"stats", required_argument, NULL, 's'},
		{"count", required_argument, NULL, 'c'},
		{"udp-clients", required_argument, NULL, 'u'},
		{"ports", required_argument, NULL, 'p'},
		{"reflect", no_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	o->rate = 10000;
	o->clients = 3;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			o->no_pdump_init = true;
			break;
		case 'r':
			if (parse_u64(optarg, &o->rate) < 0) {
				fprintf(stderr, "lab-primary: bad --rate %s\n", optarg);
				return -1;
			}
			break;
		case 's':
			o->stats = optarg;
			break;
		case 'c':
			if (parse_u64(optarg, &o->count) < 0) {
				fprintf(stderr, "lab-primary: bad --count %s\n", optarg);
				return -1;
			}
			break;
		case 'u':
			if (parse_u64(optarg, &o->clients) < 0 || o->clients < 1 ||
			    o->clients > MAX_CLIENTS) {
				fprintf(stderr, "lab-primary: bad --udp-clients %s (1..%d)\n", optarg,
					MAX_CLIENTS);
				return -1;
			}
			break;
		case 'p':
			if (parse_ports(optarg, &o->port_mask) < 0) {
				fprintf(stderr, "lab-primary: bad --ports %s (port ids < %d, comma-separated)\n",
					optarg, MAX_PORTS);
				return -1;
			}
			break;
		case 'f':
			o->reflect = true;
			break;
		default:
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "lab-primary: unexpected argument %s\n", argv[optind]);
		return -1;
	}
	return 0;
}

/* ---- frame building ------------------------------------------------------ */

static void fill_payload(uint8_t *p, uint16_t len, uint64_t seq)
{
	char head[48];
	int n = snprintf(head, sizeof(head), "gzlab seq=%" PRIu64 " ", seq);

	for (uint16_t i = 0; i < len; i++)
		p[i] = i < n ? (uint8_t)head[i] : (uint8_t)('a' + (i + seq) % 26);
}

/* Payload sizes vary with the sequence number: 18..1218 bytes. */
static uint16_t payload_len(uint64_t seq)
{
	return (uint16_t)(18 + (seq * 37) % 1201);
}

static uint8_t *eth(uint8_t *p, bool to_server, uint16_t type)
{
	struct rte_ether_hdr *e = (struct rte_ether_hdr *)p;

	rte_ether_addr_copy(to_server ? &server_mac : &client_mac, &e->ETH_DST);
	rte_ether_addr_copy(to_server ? &client_mac : &server_mac, &e->ETH_SRC);
	e->ether_type = rte_cpu_to_be_16(type);
	return p + sizeof(*e);
}

static uint8_t *ipv4(uint8_t *p, uint32_t src, uint32_t dst, uint8_t proto,
		     uint16_t l4len, uint64_t seq)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;

	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + l4len);
	ip->packet_id = rte_cpu_to_be_16((uint16_t)seq);
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(src);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	return p + sizeof(*ip);
}

static uint16_t build_udp4(uint8_t *frame, uint32_t src, uint16_t sport, uint32_t dst,
			   uint16_t dport, bool to_server, uint16_t vlan, uint64_t seq)
{
	uint16_t plen = payload_len(seq);
	uint8_t *p;

	if (vlan) {
		p = eth(frame, to_server, RTE_ETHER_TYPE_VLAN);
		struct rte_vlan_hdr *vh = (struct rte_vlan_hdr *)p;
		vh->vlan_tci = rte_cpu_to_be_16(vlan);
		vh->eth_proto = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		p += sizeof(*vh);
	} else {
		p = eth(frame, to_server, RTE_ETHER_TYPE_IPV4);
	}
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;
	struct rte_udp_hdr *u =
		(struct rte_udp_hdr *)ipv4(p, src, dst, IPPROTO_UDP, sizeof(struct rte_udp_hdr) + plen, seq);
	u->src_port = rte_cpu_to_be_16(sport);
	u->dst_port = rte_cpu_to_be_16(dport);
	u->dgram_len = rte_cpu_to_be_16(sizeof(*u) + plen);
	u->dgram_cksum = 0;
	fill_payload((uint8_t *)(u + 1), plen, seq);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	u->dgram_cksum = rte_ipv4_udptcp_cksum(ip, u);
	return (uint16_t)((uint8_t *)(u + 1) + plen - frame);
}

static uint16_t build_udp6(uint8_t *frame, uint64_t seq)
{
	static const uint8_t src[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
	static const uint8_t dst[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
	uint16_t plen = payload_len(seq);
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)eth(frame, true, RTE_ETHER_TYPE_IPV6);

	memset(ip, 0, sizeof(*ip));
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(sizeof(struct rte_udp_hdr) + plen);
	ip->proto = IPPROTO_UDP;
	ip->hop_limits = 64;
	memcpy(&ip->src_addr, src, 16); /* an array before 24.11, struct rte_ipv6_addr since */
	memcpy(&ip->dst_addr, dst, 16);
	struct rte_udp_hdr *u = (struct rte_udp_hdr *)(ip + 1);
	u->src_port = rte_cpu_to_be_16(6000);
	u->dst_port = rte_cpu_to_be_16(8080);
	u->dgram_len = ip->payload_len;
	u->dgram_cksum = 0;
	fill_payload((uint8_t *)(u + 1), plen, seq);
	u->dgram_cksum = rte_ipv6_udptcp_cksum(ip, u);
	return (uint16_t)((uint8_t *)(u + 1) + plen - frame);
}

static uint16_t build_tcp(uint8_t *frame, uint8_t flags, uint64_t seq)
{
	bool to_server = flags != (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	uint32_t src = to_server ? tcp_client_ip : server_ip;
	uint32_t dst = to_server ? server_ip : tcp_client_ip;
	uint8_t *p = eth(frame, to_server, RTE_ETHER_TYPE_IPV4);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;
	struct rte_tcp_hdr *t =
		(struct rte_tcp_hdr *)ipv4(p, src, dst, IPPROTO_TCP, sizeof(struct rte_tcp_hdr), seq);
	uint32_t iss = 1000u + (uint32_t)(seq / CYCLE_LEN) * 7u;

	memset(t, 0, sizeof(*t));
	t->src_port = rte_cpu_to_be_16(to_server ? 40000 : 80);
	t->dst_port = rte_cpu_to_be_16(to_server ? 80 : 40000);
	switch (flags) {
	case RTE_TCP_SYN_FLAG:
		t->sent_seq = rte_cpu_to_be_32(iss);
		break;
	case RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG:
		t->sent_seq = rte_cpu_to_be_32(5000);
		t->recv_ack = rte_cpu_to_be_32(iss + 1);
		break;
	default:
		t->sent_seq = rte_cpu_to_be_32(iss + 1);
		t->recv_ack = rte_cpu_to_be_32(5001);
	}
	t->data_off = (sizeof(*t) / 4) << 4;
	t->tcp_flags = flags;
	t->rx_win = rte_cpu_to_be_16(65535);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	t->cksum = rte_ipv4_udptcp_cksum(ip, t);
	return (uint16_t)((uint8_t *)(t + 1) - frame);
}

static uint16_t build_icmp(uint8_t *frame, bool request, uint64_t seq)
{
	uint16_t plen = 56;
	uint32_t src = request ? icmp_client_ip : server_ip;
	uint32_t dst = request ? server_ip : icmp_client_ip;
	uint8_t *p = eth(frame, request, RTE_ETHER_TYPE_IPV4);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)ipv4(
		p, src, dst, IPPROTO_ICMP, sizeof(struct rte_icmp_hdr) + plen, seq);

	ic->icmp_type = request ? RTE_IP_ICMP_ECHO_REQUEST : RTE_IP_ICMP_ECHO_REPLY;
	ic->icmp_code = 0;
	ic->icmp_cksum = 0;
	ic->icmp_ident = rte_cpu_to_be_16(0x4c41);
	ic->icmp_seq_nb = rte_cpu_to_be_16((uint16_t)(seq / CYCLE_LEN));
	fill_payload((uint8_t *)(ic + 1), plen, seq / CYCLE_LEN);
	ic->icmp_cksum = ~rte_raw_cksum(ic, sizeof(*ic) + plen);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return (uint16_t)((uint8_t *)(ic + 1) + plen - frame);
}

static uint16_t build_arp(uint8_t *frame, bool request)
{
	struct rte_ether_hdr *e = (struct rte_ether_hdr *)frame;
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(e + 1);

	if (request)
		memset(&e->ETH_DST, 0xff, RTE_ETHER_ADDR_LEN);
	else
		rte_ether_addr_copy(&client_mac, &e->ETH_DST);
	rte_ether_addr_copy(request ? &client_mac : &server_mac, &e->ETH_SRC);
	e->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = RTE_ETHER_ADDR_LEN;
	a->arp_plen = 4;
	a->arp_opcode = rte_cpu_to_be_16(request ? RTE_ARP_OP_REQUEST : RTE_ARP_OP_REPLY);
	if (request) {
		rte_ether_addr_copy(&client_mac, &a->arp_data.arp_sha);
		a->arp_data.arp_sip = rte_cpu_to_be_32(client_ip(0));
		memset(&a->arp_data.arp_tha, 0, RTE_ETHER_ADDR_LEN);
		a->arp_data.arp_tip = rte_cpu_to_be_32(server_ip);
	} else {
		rte_ether_addr_copy(&server_mac, &a->arp_data.arp_sha);
		a->arp_data.arp_sip = rte_cpu_to_be_32(server_ip);
		rte_ether_addr_copy(&client_mac, &a->arp_data.arp_tha);
		a->arp_data.arp_tip = rte_cpu_to_be_32(client_ip(0));
	}
	/* Pad to the Ethernet minimum (without FCS), as a NIC would. */
	uint16_t len = (uint16_t)(sizeof(*e) + sizeof(*a));
	memset(frame + len, 0, RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN - len);
	return RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN;
}

static struct rte_mbuf *make_frame(struct rte_mempool *pool, uint64_t seq)
{
	const struct slot *s = &cycle[seq % CYCLE_LEN];
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint16_t len = 0;
	/* Each cycle has three client slots; successive cycles walk on through
	 * the client set, so every client appears when there are more. */
	uint64_t client = ((seq / CYCLE_LEN) * 3 + (uint64_t)s->client) % nb_clients;

	if (m == NULL)
		return NULL;
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);

	switch (s->kind) {
	case K_UDP_REQ:
		len = build_udp4(f, client_ip(client), client_port(client), server_ip, server_port,
				 true, 0, seq);
		break;
	case K_UDP_REPLY:
		len = build_udp4(f, server_ip, server_port, client_ip(client), client_port(client),
				 false, 0, seq);
		break;
	case K_TCP_SYN:
		len = build_tcp(f, RTE_TCP_SYN_FLAG, seq);
		break;
	case K_TCP_SYNACK:
		len = build_tcp(f, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, seq);
		break;
	case K_TCP_ACK:
		len = build_tcp(f, RTE_TCP_ACK_FLAG, seq);
		break;
	case K_ICMP_REQ:
		len = build_icmp(f, true, seq);
		break;
	case K_ICMP_REPLY:
		len = build_icmp(f, false, seq);
		break;
	case K_ARP_REQ:
		len = build_arp(f, true);
		break;
	case K_ARP_REPLY:
		len = build_arp(f, false);
		break;
	case K_VLAN_UDP:
		len = build_udp4(f, IP4(10, 0, 100, 2), 5000, IP4(10, 0, 100, 1), 5001, true, 100,
				 seq);
		break;
	case K_IPV6_UDP:
		len = build_udp6(f, seq);
		break;
	}
	m->data_len = len;
	m->pkt_len = len;
	return m;
}

/* ---- counters ------------------------------------------------------------ */

static void format_counters(char *buf, size_t n, const struct counters *c, const char *dev,
			    uint16_t nb_ports, bool pdump)
{
	snprintf(buf, n,
		 "pid=%d\ndevice=%s\nports=%u\npdump_init=%d\n"
		 "tx_packets=%" PRIu64 "\ntx_bytes=%" PRIu64 "\ntx_dropped=%" PRIu64 "\n"
		 "rx_packets=%" PRIu64 "\nrx_bytes=%" PRIu64 "\n",
		 (int)getpid(), dev, nb_ports, pdump ? 1 : 0, c->tx_packets, c->tx_bytes,
		 c->tx_dropped, c->rx_packets, c->rx_bytes);
}

/* Written to FILE.tmp and renamed, so a reader never sees half a file. */
static void write_stats(const char *path, const char *text)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return;
	f = fopen(tmp, "w");
	if (f == NULL) {
		fprintf(stderr, "lab-primary: writing %s: %s\n", tmp, strerror(errno));
		return;
	}
	fputs(text, f);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		fprintf(stderr, "lab-primary: writing %s: %s\n", path, strerror(errno));
}

/* ---- ports --------------------------------------------------------------- */

static int port_start(uint16_t port, struct rte_mempool *pool)
{
	struct rte_eth_conf conf;
	uint16_t nb_rxd = RING_DESC, nb_txd = RING_DESC;
	int ret;

	memset(&conf, 0, sizeof(conf));
	ret = rte_eth_dev_configure(port, 1, 1, &conf);
	if (ret < 0)
		return ret;
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd);
	if (ret < 0)
		return ret;
	int socket = rte_eth_dev_socket_id(port);
	if (socket < 0)
		socket = (int)rte_socket_id();
	ret = rte_eth_rx_queue_setup(port, 0, nb_rxd, (unsigned int)socket, NULL, pool);
	if (ret < 0)
		return ret;
	ret = rte_eth_tx_queue_setup(port, 0, nb_txd, (unsigned int)socket, NULL);
	if (ret < 0)
		return ret;
	ret = rte_eth_dev_start(port);
	if (ret < 0)
		return ret;
	/* Frames are addressed to the lab's own MACs, not the port's. */
	rte_eth_promiscuous_enable(port);
	return 0;
}

static void sleep_us(long us)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = us * 1000};

	nanosleep(&ts, NULL);
}

/* ---- reflecting --------------------------------------------------------- */

/* reflect turns a received frame into the answer a host would give and
 * reports whether it should be sent back: an ARP request for any address is
 * answered with the lab's server MAC (so a kernel peer in a namespace sends
 * its IPv4 traffic to that MAC, which no kernel interface owns), and an IPv4
 * frame to that MAC goes back with its addresses and ports swapped (ICMP
 * echo requests become replies). Swapping keeps the IPv4 header checksum
 * valid: a ones' complement sum does not depend on the order. */
static bool reflect(struct rte_mbuf *m)
{
	if (rte_pktmbuf_data_len(m) < sizeof(struct rte_ether_hdr) + sizeof(struct rte_arp_hdr))
		return false;
	struct rte_ether_hdr *e = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	uint16_t type = rte_be_to_cpu_16(e->ether_type);

	if (type == RTE_ETHER_TYPE_ARP) {
		struct rte_arp_hdr *a = (struct rte_arp_hdr *)(e + 1);
		if (a->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST))
			return false;
		uint32_t want = a->arp_data.arp_tip;
		a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
		rte_ether_addr_copy(&a->arp_data.arp_sha, &a->arp_data.arp_tha);
		a->arp_data.arp_tip = a->arp_data.arp_sip;
		rte_ether_addr_copy(&server_mac, &a->arp_data.arp_sha);
		a->arp_data.arp_sip = want;
		rte_ether_addr_copy(&e->ETH_SRC, &e->ETH_DST);
		rte_ether_addr_copy(&server_mac, &e->ETH_SRC);
		return true;
	}
	if (type != RTE_ETHER_TYPE_IPV4 || !rte_is_same_ether_addr(&e->ETH_DST, &server_mac))
		return false;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(e + 1);
	size_t ihl = (size_t)(ip->version_ihl & 0x0f) * 4;
	if (ihl < sizeof(*ip) ||
	    rte_pktmbuf_data_len(m) < sizeof(*e) + ihl + sizeof(struct rte_udp_hdr))
		return false;
	uint32_t a = ip->src_addr;
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = a;
	uint8_t *l4 = (uint8_t *)ip + ihl;
	switch (ip->next_proto_id) {
	case IPPROTO_UDP:
	case IPPROTO_TCP: {
		uint16_t *ports = (uint16_t *)l4;
		uint16_t p = ports[0];
		ports[0] = ports[1];
		ports[1] = p;
		/* A kernel peer on a veth leaves the L4 checksum to "hardware"
		 * (only the pseudo-header sum is in the frame): compute it. */
		uint16_t len = (uint16_t)(rte_be_to_cpu_16(ip->total_length) - ihl);
		if (rte_pktmbuf_data_len(m) < sizeof(*e) + ihl + len)
			return false;
		if (ip->next_proto_id == IPPROTO_UDP) {
			((struct rte_udp_hdr *)l4)->dgram_cksum = 0;
			((struct rte_udp_hdr *)l4)->dgram_cksum = rte_ipv4_udptcp_cksum(ip, l4);
		} else {
			((struct rte_tcp_hdr *)l4)->cksum = 0;
			((struct rte_tcp_hdr *)l4)->cksum = rte_ipv4_udptcp_cksum(ip, l4);
		}
		break;
	}
	case IPPROTO_ICMP: {
		struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)l4;
		uint16_t len = (uint16_t)(rte_be_to_cpu_16(ip->total_length) - ihl);
		if (ic->icmp_type != RTE_IP_ICMP_ECHO_REQUEST ||
		    rte_pktmbuf_data_len(m) < sizeof(*e) + ihl + len)
			return false;
		ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
		ic->icmp_cksum = 0;
		ic->icmp_cksum = ~rte_raw_cksum(ic, len);
		break;
	}
	default:
		return false;
	}
	rte_ether_addr_copy(&e->ETH_SRC, &e->ETH_DST);
	rte_ether_addr_copy(&server_mac, &e->ETH_SRC);
	return true;
}

/* ---- the primary --------------------------------------------------------- */

/* One primary per process: the executable's main and liblstack's
 * constructor both drive it through lab_primary_start / lab_primary_run. */
static struct {
	struct opts o;
	struct counters c;
	struct rte_mempool *pool;
	uint16_t ports[MAX_PORTS]; /* the ports the lab drives */
	uint16_t nb_ports;
	char devname[RTE_ETH_NAME_MAX_LEN];
} lab;

static void lab_fail_cleanup(void)
{
	if (!lab.o.no_pdump_init)
		rte_pdump_uninit();
	rte_eal_cleanup();
}

/* lab_primary_start initialises the EAL from argv ("prog [EAL] -- [app]"),
 * starts the ports and prints the ready line. It returns 0, or the exit
 * status the program should end with. */
int lab_primary_start(int argc, char **argv)
{
	char all[512] = "";
	uint16_t p;
	int ret;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		/* Worded like lstack's own "rte_eal_init failed init, rte_errno %d". */
		fprintf(stderr, "lab-primary: rte_eal_init failed, rte_errno %d (%s)\n", rte_errno,
			rte_strerror(rte_errno));
		return 1;
	}
	argc -= ret;
	argv += ret;
	argv[0] = "lab-primary";
	if (parse_app_args(argc, argv, &lab.o) < 0) {
		usage("lab-primary");
		rte_eal_cleanup();
		return 2;
	}
	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		fprintf(stderr, "lab-primary: must run as the primary process\n");
		rte_eal_cleanup();
		return 1;
	}

	nb_clients = lab.o.clients;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	if (!lab.o.no_pdump_init) {
		ret = rte_pdump_init();
		if (ret < 0) {
			fprintf(stderr, "lab-primary: rte_pdump_init failed: %s\n",
				rte_strerror(rte_errno));
			rte_eal_cleanup();
			return 1;
		}
	}

	lab.pool = rte_pktmbuf_pool_create("lab_mbuf_pool", NB_MBUFS, MBUF_CACHE, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (lab.pool == NULL) {
		fprintf(stderr, "lab-primary: cannot create mbuf pool: %s\n",
			rte_strerror(rte_errno));
		lab_fail_cleanup();
		return 1;
	}

	/* The port list is fixed here: pdump later hotplugs its own net_pcap
	 * vdevs into this process, and those must not receive lab traffic.
	 * --ports picks some (a bonding member is driven by its bond, as in
	 * ltran, and must not be configured on its own). */
	RTE_ETH_FOREACH_DEV(p) {
		char name[RTE_ETH_NAME_MAX_LEN];
		rte_eth_dev_get_name_by_port(p, name);
		snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s%s", all[0] ? "," : "",
			 name);
		if (lab.nb_ports == MAX_PORTS)
			continue;
		if (lab.o.port_mask && !(lab.o.port_mask & (1u << p)))
			continue;
		lab.ports[lab.nb_ports++] = p;
	}
	if (lab.nb_ports == 0) {
		fprintf(stderr, "lab-primary: no ethdev ports to drive: give a --vdev such as "
				"net_ring0 (and --ports that exist)\n");
		lab_fail_cleanup();
		return 1;
	}
	for (uint16_t i = 0; i < lab.nb_ports; i++) {
		ret = port_start(lab.ports[i], lab.pool);
		if (ret < 0) {
			fprintf(stderr, "lab-primary: starting port %u: %s\n", lab.ports[i],
				rte_strerror(-ret));
			lab_fail_cleanup();
			return 1;
		}
	}
	rte_eth_dev_get_name_by_port(lab.ports[0], lab.devname);

	printf("lab-primary: ready pid=%d ports=%u port=%u device=%s pdump_init=%d "
	       "all_ports=%s runtime_dir=%s\n",
	       (int)getpid(), lab.nb_ports, lab.ports[0], lab.devname, lab.o.no_pdump_init ? 0 : 1,
	       all, rte_eal_get_runtime_dir());
	fflush(stdout);
	return 0;
}

/* lab_primary_run sends and receives until SIGINT/SIGTERM (or --count),
 * then stops the ports, prints the final counters and cleans up the EAL. */
int lab_primary_run(void)
{
	struct opts *o = &lab.o;
	struct counters *c = &lab.c;
	char text[1024];
	int ret;

	uint64_t hz = rte_get_timer_hz();
	uint64_t start = rte_get_timer_cycles();
	uint64_t next_stats = start;
	uint64_t seq = 0;
	uint64_t attempted = 0; /* frames built for tx; what --count limits */
	uint16_t rr = 0;

	while (!quit) {
		uint64_t now = rte_get_timer_cycles();
		bool busy = false;

		/* Packets owed since start at the configured rate; the owed count
		 * is capped at one burst so a stall does not cause a flood. */
		uint64_t due = o->rate ? (now - start) / (hz / o->rate > 0 ? hz / o->rate : 1) : 0;
		if (due > seq + BURST)
			seq = due - BURST;
		/* --count limits frames really offered to tx, not the schedule:
		 * a stall on a loaded machine shifts the schedule (seq jumps)
		 * but must not eat into the count. */
		uint64_t left = o->count ? o->count - attempted : UINT64_MAX;
		if (due > seq && left > 0) {
			struct rte_mbuf *burst[BURST];
			uint16_t n = 0;
			uint16_t want = (uint16_t)RTE_MIN(RTE_MIN(due - seq, (uint64_t)BURST), left);
			uint16_t port = lab.ports[rr++ % lab.nb_ports];

			while (n < want) {
				struct rte_mbuf *m = make_frame(lab.pool, seq + n);
				if (m == NULL)
					break;
				burst[n++] = m;
			}
			uint16_t sent = rte_eth_tx_burst(port, 0, burst, n);
			for (uint16_t i = 0; i < sent; i++) {
				c->tx_packets++;
				c->tx_bytes += rte_pktmbuf_pkt_len(burst[i]);
			}
			if (sent < n) {
				c->tx_dropped += n - sent;
				rte_pktmbuf_free_bulk(&burst[sent], n - sent);
			}
			c->tx_dropped += want - n; /* mbuf pool exhausted */
			seq += want;
			attempted += want;
			busy = true;
		}

		for (uint16_t i = 0; i < lab.nb_ports; i++) {
			struct rte_mbuf *rx[BURST], *back[BURST];
			uint16_t nb_back = 0;
			uint16_t got = rte_eth_rx_burst(lab.ports[i], 0, rx, BURST);
			for (uint16_t j = 0; j < got; j++) {
				c->rx_packets++;
				c->rx_bytes += rte_pktmbuf_pkt_len(rx[j]);
				if (o->reflect && reflect(rx[j]))
					back[nb_back++] = rx[j];
				else
					rte_pktmbuf_free(rx[j]);
			}
			if (nb_back) {
				uint16_t sent = rte_eth_tx_burst(lab.ports[i], 0, back, nb_back);
				for (uint16_t j = 0; j < sent; j++) {
					c->tx_packets++;
					c->tx_bytes += rte_pktmbuf_pkt_len(back[j]);
				}
				if (sent < nb_back) {
					c->tx_dropped += nb_back - sent;
					rte_pktmbuf_free_bulk(&back[sent], nb_back - sent);
				}
			}
			if (got)
				busy = true;
		}

		if (now >= next_stats) {
			if (o->stats) {
				format_counters(text, sizeof(text), c, lab.devname, lab.nb_ports,
						!o->no_pdump_init);
				write_stats(o->stats, text);
			}
			next_stats = now + hz * STATS_INTERVAL_MS / 1000;
		}
		if (o->count && attempted >= o->count && !busy)
			break;
		/* A stand-in primary need not spin: sleeping keeps a 2-core
		 * machine usable while several lab primaries run in tests. */
		if (!busy)
			sleep_us(200);
	}

	for (uint16_t i = 0; i < lab.nb_ports; i++) {
		ret = rte_eth_dev_stop(lab.ports[i]);
		if (ret < 0)
			fprintf(stderr, "lab-primary: stopping port %u: %s\n", lab.ports[i],
				rte_strerror(-ret));
		rte_eth_dev_close(lab.ports[i]);
	}
	format_counters(text, sizeof(text), c, lab.devname, lab.nb_ports, !o->no_pdump_init);
	if (o->stats)
		write_stats(o->stats, text);
	printf("lab-primary: stopped\n%s", text);
	fflush(stdout);
	if (!o->no_pdump_init)
		rte_pdump_uninit();
	rte_eal_cleanup();
	return 0;
}
