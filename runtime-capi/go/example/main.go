// Command example runs a container from a bundle with libruntime and prints its state.
//
//	go build -o run-example ./example && sudo ./run-example BUNDLE [STATE_ROOT [ID]]
package main

import (
	"encoding/json"
	"fmt"
	"os"

	libruntime "example.invalid/runtime-cli/runtime-capi/go"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 1 {
		return fmt.Errorf("usage: example BUNDLE [STATE_ROOT [ID]]")
	}
	root, id := "/run/runtime-capi-example", "example"
	if len(args) > 1 {
		root = args[1]
	}
	if len(args) > 2 {
		id = args[2]
	}
	ctx, err := libruntime.NewContext(root, nil)
	if err != nil {
		return err
	}
	defer ctx.Close()
	init, err := ctx.Create(id, libruntime.CreateOptions{Bundle: args[0]})
	if err != nil {
		return err
	}
	st, err := ctx.State(id)
	if err != nil {
		return err
	}
	js, _ := json.Marshal(st)
	fmt.Println(string(js))
	if err := ctx.Start(id); err != nil {
		return err
	}
	code, err := init.Wait() // the init is our child: reap it
	if err != nil {
		return err
	}
	if st, err = ctx.State(id); err != nil {
		return err
	}
	fmt.Printf("exit code %d, status %s\n", code, st.Status)
	return ctx.Delete(id, false)
}
