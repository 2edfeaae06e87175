module github.com/xent-go/xent

go 1.26
