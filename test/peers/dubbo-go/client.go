// A dubbo-go consumer of the Java test provider's meltemi.peers.dubbo.EchoService (test/peers/dubbo),
// for the Envoy tests (test/envoy/dubbo-go.test.ts). It uses dubbo-go's client API the way a dubbo-go
// user writes it: client.NewClient, Dial with a direct dubbo:// URL (no registry), CallUnary, hessian2.
//
// One call per stdin line, tab-separated key=value fields:
//
//	url=dubbo://127.0.0.1:PORT  method=echo|nothing|fail  arg=TEXT
//	[group=G] [version=V] [timeout=MS] [att.KEY=VALUE]...
//
// Each call prints one line "result " + JSON: {"ok":true,"result":...} or {"ok":false,"error":"..."}.
// Calls with the same url, group and version share one reference (client.Dial); dubbo-go keeps one
// exchange client per provider address, so every reference to one address shares a connection.
// timeout goes with the call (client.WithCallRequestTimeout). Without it, dubbo-go v3.3.2 sends the
// attachment timeout=0 (CallUnary puts an empty timeout attachment over the reference's) and waits
// its getty client's default of 3 s.
// echo's reply is read as map[any]any: dubbo-go fails to decode the Java TreeMap into a
// map[string]string, and that failure also closes its connection.
// Prints "READY" at start. dubbo-go's own log goes to stdout too; the driver reads only these lines.
//
// Flags change dubbo-go's getty client settings (remoting/getty.SetClientConf), whose defaults are a
// pool of 16 connections per provider address, opened one after another in the background (each
// call takes a random one), and a heartbeat on each connection every 30 s:
//
//	-connections N   connections per provider address (0: dubbo-go's default)
//	-heartbeat D     heartbeat period, a Go duration (empty: dubbo-go's default)
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/common/constant"
	_ "dubbo.apache.org/dubbo-go/v3/imports"
	"dubbo.apache.org/dubbo-go/v3/remoting/getty"
	"github.com/dubbogo/gost/log/logger"
)

const service = "meltemi.peers.dubbo.EchoService"

type outcome struct {
	OK     bool   `json:"ok"`
	Result any    `json:"result,omitempty"`
	Error  string `json:"error,omitempty"`
}

func parse(line string) map[string]string {
	fields := map[string]string{}
	for _, f := range strings.Split(line, "\t") {
		if k, v, ok := strings.Cut(f, "="); ok && k != "" {
			fields[k] = v
		}
	}
	return fields
}

var (
	cli         *client.Client
	connections = map[string]*client.Connection{}
)

func connection(f map[string]string) (*client.Connection, error) {
	key := f["url"] + "|" + f["group"] + "|" + f["version"]
	if c, ok := connections[key]; ok {
		return c, nil
	}
	opts := []client.ReferenceOption{
		client.WithURL(f["url"]),
		client.WithProtocolDubbo(),
		client.WithSerialization(constant.Hessian2Serialization),
		client.WithClusterFailFast(),
	}
	if g, ok := f["group"]; ok {
		opts = append(opts, client.WithGroup(g))
	}
	if v, ok := f["version"]; ok {
		opts = append(opts, client.WithVersion(v))
	}
	c, err := cli.Dial(service, opts...)
	if err != nil {
		return nil, err
	}
	connections[key] = c
	return c, nil
}

func call(f map[string]string) (out outcome) {
	defer func() {
		if p := recover(); p != nil {
			out = outcome{Error: fmt.Sprintf("panic: %v", p)}
		}
	}()
	conn, err := connection(f)
	if err != nil {
		return outcome{Error: err.Error()}
	}
	attachments := map[string]any{}
	for k, v := range f {
		if name, ok := strings.CutPrefix(k, "att."); ok {
			attachments[name] = v
		}
	}
	ctx := context.WithValue(context.Background(), constant.AttachmentKey, attachments)
	var callOpts []client.CallOption
	if t, ok := f["timeout"]; ok {
		ms, err := strconv.Atoi(t)
		if err != nil {
			return outcome{Error: "timeout: " + err.Error()}
		}
		callOpts = append(callOpts, client.WithCallRequestTimeout(time.Duration(ms)*time.Millisecond))
	}
	args := []any{f["arg"]}
	switch method := f["method"]; method {
	case "echo":
		var reply map[any]any
		if err := conn.CallUnary(ctx, args, &reply, method, callOpts...); err != nil {
			return outcome{Error: err.Error()}
		}
		result := map[string]string{}
		for k, v := range reply {
			result[fmt.Sprint(k)] = fmt.Sprint(v)
		}
		return outcome{OK: true, Result: result}
	case "nothing", "fail":
		var reply string
		if err := conn.CallUnary(ctx, args, &reply, method, callOpts...); err != nil {
			return outcome{Error: err.Error()}
		}
		return outcome{OK: true, Result: reply}
	default:
		return outcome{Error: "unknown method " + method}
	}
}

func main() {
	connections := flag.Int("connections", 0, "connections per provider address (0: dubbo-go's default)")
	heartbeat := flag.String("heartbeat", "", "heartbeat period (empty: dubbo-go's default)")
	flag.Parse()
	logger.SetLoggerLevel("warn")
	if *connections > 0 || *heartbeat != "" {
		conf := *getty.GetDefaultClientConfig()
		if *connections > 0 {
			conf.ConnectionNum = *connections
		}
		if *heartbeat != "" {
			conf.HeartbeatPeriod = *heartbeat
		}
		getty.SetClientConf(conf)
	}
	var err error
	cli, err = client.NewClient(client.WithClientProtocolDubbo())
	if err != nil {
		fmt.Fprintln(os.Stderr, "dubbo-go client:", err)
		os.Exit(1)
	}
	fmt.Println("READY")
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	for in.Scan() {
		if strings.TrimSpace(in.Text()) == "" {
			continue
		}
		line, _ := json.Marshal(call(parse(in.Text())))
		fmt.Printf("result %s\n", line)
	}
}
