module example.invalid/runtime-cli/runtime-capi/go

go 1.19
