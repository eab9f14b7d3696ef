// Command gzdoctor makes packet capture on Gazelle work the first time and
// explains it when it does not.
package main

import "os"

func main() { os.Exit(Main(os.Args[1:], nil)) }
