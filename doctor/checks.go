package doctor

// Checks returns every check in the order they run and print. This list is
// the one place that defines the checks; IDs never change meaning.
func Checks() []Check {
	return []Check{
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
	}
}
