package doctor

// Checks returns every check in the order they run and print. This list is
// the one place that defines the checks; IDs never change meaning.
func Checks() []Check {
	return []Check{
		{
			ID: "runtime-dir", Title: "DPDK runtime dirs and prefixes",
			Covers:          []string{"CHK-01", "CHK-02", "CHK-12"},
			CaptureRelevant: true,
			Run:             checkRuntimeDir,
		},
		{
			ID: "config", Title: "The Gazelle config in use (lstack.conf / ltran.conf)",
			Covers:          []string{"CHK-04"},
			CaptureRelevant: true,
			Run:             checkConfig,
		},
		{
			ID: "prefix", Title: "The --file-prefix the capture must use",
			Covers:          []string{"CHK-04"},
			CaptureRelevant: true,
			Run:             checkPrefix,
		},
		{
			ID: "primary", Title: "The primary process holding the prefix",
			Covers:          []string{"CHK-02", "CHK-03", "CHK-04"},
			DependsOn:       []string{"prefix"},
			CaptureRelevant: true,
			Run:             checkPrimary,
		},
		{
			ID: "permissions", Title: "The capture user can reach the primary's files",
			Covers:          []string{"CHK-12"},
			DependsOn:       []string{"prefix"},
			CaptureRelevant: true,
			Run:             checkPermissions,
		},
		{
			ID: "namespaces", Title: "Primary and capture tool see the same files",
			Covers:          []string{"CHK-15"},
			DependsOn:       []string{"primary"},
			CaptureRelevant: true,
			Run:             checkNamespaces,
		},
		{
			ID: "device", Title: "The device to capture on is driven by the primary",
			Covers:          []string{"CHK-07", "CHK-16"},
			DependsOn:       []string{"primary"},
			CaptureRelevant: true,
			Run:             checkDevice,
		},
		{
			ID: "pcap-pmd", Title: "The primary can create pdump's net_pcap vdevs",
			Covers:          []string{"CHK-11"},
			DependsOn:       []string{"primary"},
			CaptureRelevant: true,
			Run:             checkPcapPMD,
		},
		{
			ID: "pdump", Title: "The primary initialised pdump",
			Covers:          []string{"CHK-11"},
			DependsOn:       []string{"primary"},
			CaptureRelevant: true,
			Run:             checkPdump,
		},
		{
			ID: "busy", Title: "No capture runs on the primary or left its vdevs and rings in it",
			Covers:          []string{"CHK-11"},
			DependsOn:       []string{"primary"},
			CaptureRelevant: true,
			Run:             checkBusy,
		},
		{
			ID: "build-match", Title: "Capture tool and primary are the same DPDK build",
			Covers:          []string{"CHK-10"},
			DependsOn:       []string{"primary"},
			CaptureRelevant: true,
			Run:             checkBuildMatch,
		},
		{
			ID: "hugepages", Title: "Hugepages and hugetlbfs mounts",
			Covers:          []string{"CHK-05", "CHK-06"},
			CaptureRelevant: true,
			Run:             checkHugepages,
		},
		{
			ID: "iommu", Title: "IOMMU / VFIO state",
			Covers: []string{"CHK-08"},
			Run:    checkIOMMU,
		},
		{
			ID: "output-path", Title: "The primary can write the capture file",
			Covers:          []string{"CHK-13"},
			CaptureRelevant: true,
			Run:             checkOutputPath,
		},
		{
			ID: "aslr", Title: "Address space layout randomisation",
			Covers: []string{"CHK-09"},
			Run:    checkASLR,
		},
		{
			ID: "address-space", Title: "Virtual address space limits",
			Covers:          []string{"CHK-14"},
			CaptureRelevant: true,
			Run:             checkAddressSpace,
		},
		{
			ID: "gazelle-hugepages", Title: "Gazelle's mbuf pools fit in the hugepages",
			Covers: []string{"CHK-05", "CHK-06"},
			Run:    checkGazelleHugepages,
		},
		{
			ID: "gazelle-settings", Title: "Gazelle settings that lstack or ltran refuse",
			Covers: []string{"CHK-04"},
			Run:    checkGazelleSettings,
		},
		{
			ID: "gazelle-devices", Title: "The NICs and CPUs the Gazelle config names",
			Covers: []string{"CHK-07", "CHK-16"},
			Run:    checkGazelleDevices,
		},
		{
			ID: "gazelle-kernel", Title: "Kernel settings and CPU features Gazelle's guide requires",
			Run: checkGazelleKernel,
		},
		{
			ID: "gazelle-ltran", Title: "use_ltran against the ltran that runs",
			Covers: []string{"CHK-02"},
			Run:    checkGazelleLtran,
		},
		{
			ID: "gazelle-sockets", Title: "gazellectl's control sockets",
			Covers: []string{"CHK-02", "CHK-03"},
			Run:    checkGazelleSockets,
		},
	}
}
