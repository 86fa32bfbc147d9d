module meltemi.test/trpcpeer

go 1.21

require trpc.group/trpc-go/trpc-go v1.0.3
