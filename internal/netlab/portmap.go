package netlab

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"regexp"
	"strings"
	"sync"
)

// Port mapping: most home routers let a host behind them ask for one of
// the router's public ports to be forwarded to it (UPnP's Internet
// Gateway Device), and the host is then reachable as a public one.
// Lab.PortMapping makes a home's router such a device: it answers SSDP
// searches on its LAN, describes one WANIPConnection service, and grants
// AddPortMapping with an nftables rule per mapping. Only what go-libp2p's
// port mapper asks for is spoken.

const (
	ssdpGroup = "239.255.255.250:1900"
	igdPort   = 5000 // the description and control, over HTTP on the LAN address
	wanIPConn = "urn:schemas-upnp-org:service:WANIPConnection:1"
)

// PortMapping makes h's router a UPnP gateway until the test ends. It
// reports each mapping it grants (as "TCP 40123 -> 192.168.1.2:4011")
// on the channel it returns, without blocking.
func (l *Lab) PortMapping(h *Home) <-chan string {
	l.t.Helper()
	gw := h.Host.addr.As4()
	gw[3] = 1
	lanAddr := netip.AddrFrom4(gw)
	g := &gateway{router: h.Router, lan: lanAddr, told: make(chan string, 16), mapped: map[string]bool{}}
	err := inNetns(h.Router.netns, func() error {
		iface, err := net.InterfaceByName("lan")
		if err != nil {
			return err
		}
		if g.ssdp, err = net.ListenMulticastUDP("udp4", iface, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(ssdpGroup))); err != nil {
			return err
		}
		g.web, err = net.Listen("tcp4", netip.AddrPortFrom(lanAddr, igdPort).String())
		return err
	})
	if err != nil {
		if g.ssdp != nil {
			g.ssdp.Close()
		}
		l.t.Fatalf("netlab: UPnP on %s: %v", h.Router.name, err)
	}
	srv := &http.Server{Handler: g}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		g.answerSearches()
	}()
	go func() {
		defer wg.Done()
		srv.Serve(g.web)
	}()
	l.t.Cleanup(func() {
		g.ssdp.Close()
		srv.Close()
		wg.Wait()
	})
	return g.told
}

// gateway is one router's UPnP side.
type gateway struct {
	router *Node
	lan    netip.Addr
	ssdp   *net.UDPConn
	web    net.Listener
	told   chan string
	mu     sync.Mutex
	mapped map[string]bool // "TCP 40123"
}

// answerSearches answers every M-SEARCH for an Internet gateway, or for
// anything, with where its description is.
func (g *gateway) answerSearches() {
	buf := make([]byte, 2048)
	for {
		n, from, err := g.ssdp.ReadFromUDPAddrPort(buf)
		if err != nil {
			return // closed at the test's end
		}
		req := string(buf[:n])
		if !strings.HasPrefix(req, "M-SEARCH") {
			continue
		}
		st := header(req, "ST")
		if st != "ssdp:all" && st != "upnp:rootdevice" && !strings.Contains(st, "InternetGatewayDevice") && !strings.Contains(st, "WANConnectionDevice") && st != wanIPConn {
			continue
		}
		reply := fmt.Sprintf("HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nEXT:\r\nLOCATION: http://%s:%d/rootDesc.xml\r\nSERVER: netlab UPnP/1.0\r\nST: %s\r\nUSN: uuid:netlab-igd::%s\r\n\r\n",
			g.lan, igdPort, st, st)
		g.ssdp.WriteToUDPAddrPort([]byte(reply), from)
	}
}

// header returns the value of an HTTP-like header of req.
func header(req, name string) string {
	for line := range strings.Lines(req) {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

const rootDesc = `<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0">
<specVersion><major>1</major><minor>0</minor></specVersion>
<device>
<deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
<friendlyName>netlab router</friendlyName><UDN>uuid:netlab-igd</UDN>
<deviceList><device>
<deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType><UDN>uuid:netlab-wan</UDN>
<deviceList><device>
<deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType><UDN>uuid:netlab-wanconn</UDN>
<serviceList><service>
<serviceType>` + wanIPConn + `</serviceType>
<serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId>
<controlURL>/ctl</controlURL><eventSubURL>/evt</eventSubURL><SCPDURL>/scpd.xml</SCPDURL>
</service></serviceList>
</device></deviceList>
</device></deviceList>
</device>
</root>`

var soapArg = regexp.MustCompile(`<(New[A-Za-z]+)>([^<]*)</New[A-Za-z]+>`)

// ServeHTTP serves the description and the control of the service.
func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == "/rootDesc.xml" {
		w.Header().Set("Content-Type", `text/xml; charset="utf-8"`)
		io.WriteString(w, rootDesc)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/ctl" {
		http.NotFound(w, r)
		return
	}
	_, action, _ := strings.Cut(strings.Trim(r.Header.Get("SOAPAction"), `"`), "#")
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	args := map[string]string{}
	for _, m := range soapArg.FindAllStringSubmatch(string(body), -1) {
		args[m[1]] = m[2]
	}
	var out string
	switch action {
	case "GetNATRSIPStatus":
		out = "<NewRSIPAvailable>0</NewRSIPAvailable><NewNATEnabled>1</NewNATEnabled>"
	case "GetExternalIPAddress":
		out = "<NewExternalIPAddress>" + g.router.addr.String() + "</NewExternalIPAddress>"
	case "AddPortMapping":
		if err := g.mapPort(args["NewProtocol"], args["NewExternalPort"], args["NewInternalClient"], args["NewInternalPort"]); err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>718</errorCode><errorDescription>%s</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>`, err)
			return
		}
	case "DeletePortMapping":
		// The rule stays until the lab goes.
	default:
		http.Error(w, "unknown action", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", `text/xml; charset="utf-8"`)
	fmt.Fprintf(w, `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body><u:%sResponse xmlns:u="%s">%s</u:%sResponse></s:Body></s:Envelope>`,
		action, wanIPConn, out, action)
}

var (
	portArg   = regexp.MustCompile(`^[0-9]{1,5}$`)
	clientArg = regexp.MustCompile(`^[0-9.]{7,15}$`)
)

// mapPort forwards the router's public port outer of proto ("TCP" or
// "UDP") to client:inner, unless that port is forwarded already.
func (g *gateway) mapPort(proto, outer, client, inner string) error {
	proto = strings.ToLower(proto)
	if (proto != "tcp" && proto != "udp") || !portArg.MatchString(outer) || !portArg.MatchString(inner) || !clientArg.MatchString(client) {
		return fmt.Errorf("bad mapping %s %s -> %s:%s", proto, outer, client, inner)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	key := proto + " " + outer
	if g.mapped[key] {
		return nil // asked again, as a renewal
	}
	rule := fmt.Sprintf(`add rule ip nat prerouting iifname "wan" %s dport %s dnat to %s:%s`, proto, outer, client, inner)
	if out, err := exec.Command("ip", "netns", "exec", g.router.netns, "nft", rule).CombinedOutput(); err != nil {
		return fmt.Errorf("nft %s: %v: %s", rule, err, strings.TrimSpace(string(out)))
	}
	g.mapped[key] = true
	select {
	case g.told <- fmt.Sprintf("%s %s -> %s:%s", strings.ToUpper(proto), outer, client, inner):
	default:
	}
	return nil
}
