// The tRPC test peers for Meltemi's tests (test/codec/trpc/peers.ts), on the real trpc-go:
//
//	trpcpeer server <name>   serves trpc.meltemi.test.Greeter on a free 127.0.0.1 port, prints
//	                         "listening <port>"; Hello answers "<name>:<body>:<oneway calls seen>
//	                         [k=v;...]" (the call's trans_info in key order), and so does
//	                         "/trpc.test.helloworld.Greeter/SayHello" (the rpc name of Aeraki's demo),
//	                         Notify (called oneway) only counts.
//	trpcpeer client          reads one call per stdin line (JSON, see call), makes it with trpc-go's
//	                         client and prints one line "result <json>" per call (see result), among
//	                         trpc-go's log lines. Calls naming the
//	                         same "conn" share one connection pool (sequential calls: one connection).
//
// Bodies use trpc-go's noop serialization (content_type 4): the frames are trpc-go's own, with no
// generated stubs.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	trpc "trpc.group/trpc-go/trpc-go"
	"trpc.group/trpc-go/trpc-go/client"
	"trpc.group/trpc-go/trpc-go/codec"
	"trpc.group/trpc-go/trpc-go/errs"
	"trpc.group/trpc-go/trpc-go/pool/connpool"
	"trpc.group/trpc-go/trpc-go/server"
	"trpc.group/trpc-go/trpc-go/transport"
)

const serviceName = "trpc.meltemi.test.Greeter"

type call struct {
	ID        int               `json:"id"`
	Conn      string            `json:"conn"`
	Target    string            `json:"target"` // host:port
	Method    string            `json:"method"` // the rpc name, "/trpc.meltemi.test.Greeter/Hello"
	Callee    string            `json:"callee"`
	Caller    string            `json:"caller"` // "" : trpc-go's default, trpc.client.<binary>.service
	Body      string            `json:"body"`
	Oneway    bool              `json:"oneway"`
	Meta      map[string]string `json:"meta"`
	TimeoutMs int               `json:"timeoutMs"`
}

type result struct {
	ID   int    `json:"id"`
	OK   bool   `json:"ok"`
	Body string `json:"body,omitempty"`
	Code int    `json:"code,omitempty"`
	Type int    `json:"type,omitempty"` // errs.Error's Type: 1 framework (this client's), 2 business, 3 callee framework (the server's answer)
	Msg  string `json:"msg,omitempty"`
}

func main() {
	if len(os.Args) >= 3 && os.Args[1] == "server" {
		serve(os.Args[2])
		return
	}
	if len(os.Args) >= 2 && os.Args[1] == "client" {
		runClient()
		return
	}
	fmt.Fprintln(os.Stderr, "usage: trpcpeer server <name> | trpcpeer client")
	os.Exit(2)
}

func serve(name string) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var notified int64
	hello := func(svr interface{}, ctx context.Context, f server.FilterFunc) (interface{}, error) {
		req := &codec.Body{}
		chain, err := f(req)
		if err != nil {
			return nil, err
		}
		return chain.Filter(ctx, req, func(ctx context.Context, r interface{}) (interface{}, error) {
			text := fmt.Sprintf("%s:%s:%d [%s]", name, string(req.Data), atomic.LoadInt64(&notified), transInfo(ctx))
			return &codec.Body{Data: []byte(text)}, nil
		})
	}
	notify := func(svr interface{}, ctx context.Context, f server.FilterFunc) (interface{}, error) {
		req := &codec.Body{}
		chain, err := f(req)
		if err != nil {
			return nil, err
		}
		return chain.Filter(ctx, req, func(ctx context.Context, r interface{}) (interface{}, error) {
			atomic.AddInt64(&notified, 1)
			return &codec.Body{}, nil
		})
	}
	desc := &server.ServiceDesc{
		ServiceName: serviceName,
		HandlerType: (*interface{})(nil),
		Methods: []server.Method{
			{Name: "/" + serviceName + "/Hello", Func: hello},
			{Name: "/" + serviceName + "/Notify", Func: notify},
			// Aeraki's tRPC demo calls this rpc name (demo/metaprotocol-trpc): its MetaRouters run as
			// published against these servers.
			{Name: "/trpc.test.helloworld.Greeter/SayHello", Func: hello},
		},
	}
	s := server.New(
		server.WithServiceName(serviceName),
		server.WithNetwork("tcp"),
		server.WithProtocol(trpc.ProtocolName),
		server.WithListener(lis),
	)
	if err := s.Register(desc, struct{}{}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("listening %d\n", lis.Addr().(*net.TCPAddr).Port)
	if err := s.Serve(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// transInfo: the request's trans_info entries as "k=v;..." in key order.
func transInfo(ctx context.Context) string {
	md := codec.Message(ctx).ServerMetaData()
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+string(md[k]))
	}
	return strings.Join(parts, ";")
}

func runClient() {
	pools := map[string]connpool.Pool{}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	// trpc-go logs to stdout too: each answer is one line "result <json>".
	for in.Scan() {
		var c call
		if err := json.Unmarshal(in.Bytes(), &c); err != nil {
			fmt.Fprintln(os.Stderr, "bad call:", err)
			os.Exit(2)
		}
		pool, ok := pools[c.Conn]
		if !ok {
			pool = connpool.NewConnectionPool()
			pools[c.Conn] = pool
		}
		line, _ := json.Marshal(invoke(pool, c))
		fmt.Printf("result %s\n", line)
	}
}

func invoke(pool connpool.Pool, c call) result {
	timeout := time.Duration(c.TimeoutMs) * time.Millisecond
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ctx, msg := codec.WithNewMessage(ctx)
	msg.WithClientRPCName(c.Method)
	callee := c.Callee
	if callee == "" {
		callee = serviceName
	}
	msg.WithCalleeServiceName(callee)
	opts := []client.Option{
		client.WithTarget("ip://" + c.Target),
		client.WithProtocol(trpc.ProtocolName),
		client.WithNetwork("tcp"),
		// The go-net transport: the tnet one trpc-go picks for tcp takes no custom pool.
		client.WithTransport(transport.DefaultClientTransport),
		client.WithPool(pool),
		client.WithSerializationType(codec.SerializationTypeNoop),
		client.WithTimeout(timeout),
		client.WithDisableServiceRouter(),
	}
	if c.Caller != "" {
		opts = append(opts, client.WithCallerServiceName(c.Caller))
	}
	for k, v := range c.Meta {
		opts = append(opts, client.WithMetaData(k, []byte(v)))
	}
	if c.Oneway {
		opts = append(opts, client.WithSendOnly())
	}
	rsp := &codec.Body{}
	err := client.DefaultClient.Invoke(ctx, &codec.Body{Data: []byte(c.Body)}, rsp, opts...)
	if err == nil {
		return result{ID: c.ID, OK: true, Body: string(rsp.Data)}
	}
	r := result{ID: c.ID, Code: int(errs.Code(err)), Msg: errs.Msg(err)}
	var e *errs.Error
	if errors.As(err, &e) {
		r.Type = e.Type
	}
	return r
}
