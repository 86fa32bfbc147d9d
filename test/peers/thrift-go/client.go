// A real Apache Thrift Go client of test/codec/thrift/interop.thrift's Greeter, driven line by line on
// stdin so a test can interleave its calls with what it checks elsewhere. Built by
// scripts/provision/thrift-go.sh with the code `thrift --gen go` generates from the IDL.
//
// Usage: client -addr 127.0.0.1:PORT -transport framed|buffered|header -protocol binary|compact
// Input lines: "hello NAME [KEY=VALUE ...]" or "notify NOTE [KEY=VALUE ...]"; with -transport header the
// KEY=VALUE pairs are the call's THeader headers (the library writes the context's write header list,
// lib/go/thrift/client.go TStandardClient.Send). Output: one JSON object per line,
// {"op":..., "ok":true, "result":...} or {"op":..., "ok":false, "error":...}.
//
// The Go library sends a oneway method as a CALL (message type 1), not ONEWAY (4), and never reads a
// reply for it (lib/go/thrift/client.go, TStandardClient.Call with a nil result): the behaviour the
// filter must cope with.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/apache/thrift/lib/go/thrift"

	"meltemi.test/thriftgo/gen/interop"
)

type outcome struct {
	Op     string `json:"op"`
	Ok     bool   `json:"ok"`
	Result string `json:"result,omitempty"`
	Error  string `json:"error,omitempty"`
}

func main() {
	addr := flag.String("addr", "", "host:port")
	transport := flag.String("transport", "framed", "framed, buffered or header")
	protocol := flag.String("protocol", "binary", "binary or compact")
	flag.Parse()

	conf := &thrift.TConfiguration{ConnectTimeout: 5 * time.Second, SocketTimeout: 10 * time.Second}
	socket := thrift.NewTSocketConf(*addr, conf)
	var trans thrift.TTransport
	switch *transport {
	case "framed":
		trans = thrift.NewTFramedTransportConf(socket, conf)
	case "buffered":
		trans = thrift.NewTBufferedTransport(socket, 8192)
	case "header":
		trans = thrift.NewTHeaderTransportConf(socket, conf)
	default:
		fail("unknown transport " + *transport)
	}
	var protocols thrift.TProtocolFactory
	switch *protocol {
	case "binary":
		protocols = thrift.NewTBinaryProtocolFactoryConf(conf)
	case "compact":
		protocols = thrift.NewTCompactProtocolFactoryConf(conf)
	default:
		fail("unknown protocol " + *protocol)
	}
	if err := trans.Open(); err != nil {
		fail("open: " + err.Error())
	}
	defer trans.Close()
	client := interop.NewGreeterClientFactory(trans, protocols)
	if *transport == "header" {
		// One THeader protocol for both directions, over the one header transport.
		p := thrift.NewTHeaderProtocolConf(trans, conf)
		client = interop.NewGreeterClientProtocol(trans, p, p)
	}

	out := json.NewEncoder(os.Stdout)
	lines := bufio.NewScanner(os.Stdin)
	for lines.Scan() {
		fields := strings.Fields(lines.Text())
		if len(fields) == 0 {
			continue
		}
		op, arg := fields[0], ""
		if len(fields) > 1 {
			arg = fields[1]
		}
		ctx := context.Background()
		var keys []string
		for _, kv := range fields[min(2, len(fields)):] {
			if k, v, ok := strings.Cut(kv, "="); ok {
				ctx = thrift.SetHeader(ctx, k, v)
				keys = append(keys, k)
			}
		}
		ctx = thrift.SetWriteHeaderList(ctx, keys)
		o := outcome{Op: op}
		var err error
		switch op {
		case "hello":
			o.Result, err = client.Hello(ctx, arg)
		case "notify":
			err = client.Notify(ctx, arg)
		default:
			err = fmt.Errorf("unknown op %q", op)
		}
		o.Ok = err == nil
		if err != nil {
			o.Error = err.Error()
		}
		if err := out.Encode(o); err != nil {
			fail("stdout: " + err.Error())
		}
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "thrift-go client: "+msg)
	os.Exit(2)
}
