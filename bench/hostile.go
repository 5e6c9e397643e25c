// Hostile client for bench/hostile.sh: one address attacks, another behaves.
//
// The attacker (from -from) opens -n connections to -target, -workers at a time, and holds
// each for as long as the server lets it; one the server closes is opened again after a
// second, until the end. Kinds (-attack):
//
//	slowloris  sends "GET /sequence/last HTTP/1.1\r\nHost: x\r\n", then nothing more
//	trickle    the same, then one header byte every -trickle
//	idle       makes one request for /sequence/last, reads the answer, then stays idle
//	streams    asks for /sequence/stream (Accept: text/event-stream) and reads what comes
//	none       no attack: the baseline
//
// Once the attack is set up (every connection tried, or -setup passed), the well-behaved
// client (from -good-from) asks, at the same time, for GET /sequence/last and for a stream on
// new connections, each bounded by -wait, and records how long each waited and what it got.
// Prints one line: RESULT <json>. Standard library only; every phase is bounded.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var (
	target   = flag.String("target", "127.0.0.1:3333", "host:port")
	from     = flag.String("from", "127.0.0.1", "the attacker's source address")
	goodFrom = flag.String("good-from", "127.0.0.2", "the well-behaved client's source address")
	attack   = flag.String("attack", "none", "slowloris, trickle, idle, streams or none")
	n        = flag.Int("n", 100, "attack connections")
	workers  = flag.Int("workers", 256, "connections opened at once")
	trickle  = flag.Duration("trickle", 5*time.Second, "trickle: a header byte this often")
	setup    = flag.Duration("setup", 60*time.Second, "bound on setting the attack up")
	wait     = flag.Duration("wait", 120*time.Second, "bound on each of the well-behaved client's waits")
)

type probe struct {
	Ms     float64 `json:"ms"`
	Status int     `json:"status"`
	Kind   string  `json:"kind"` // last: the status; stream: value, busy, other
	Error  string  `json:"error,omitempty"`
}

type result struct {
	Attack      string  `json:"attack"`
	N           int     `json:"n"`
	SetupMs     float64 `json:"setup_ms"`
	OpenAtProbe int64   `json:"open_at_probe"` // attack connections open when the probes started
	PeakOpen    int64   `json:"peak_open"`
	Streams     int64   `json:"streams"` // streams attack: value answers
	Busy        int64   `json:"busy"`    // streams attack: busy answers
	Refused     int64   `json:"failed_connects"`
	Closed      int64   `json:"closed_by_server"`
	Last        probe   `json:"last"`
	Stream      probe   `json:"stream"`
}

var (
	open, peak, streams, busy, failed, closed atomic.Int64
	stop                                      = make(chan struct{})
)

func dialer(address string, timeout time.Duration) *net.Dialer {
	return &net.Dialer{Timeout: timeout, LocalAddr: &net.TCPAddr{IP: net.ParseIP(address)}}
}

func classify(err error) string {
	var ne net.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "closed"
	case strings.Contains(err.Error(), "refused"):
		return "refused"
	case strings.Contains(err.Error(), "reset"):
		return "reset"
	}
	return "other: " + err.Error()
}

func stopped() bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// One attack connection, opened again after a second each time it ends, until stop.
func attacker(ready chan<- struct{}) {
	first := true
	signal := func() {
		if first {
			first = false
			ready <- struct{}{}
		}
	}
	for !stopped() {
		conn, err := dialer(*from, 10*time.Second).Dial("tcp", *target)
		if err != nil {
			failed.Add(1)
			signal()
			pause()
			continue
		}
		now := open.Add(1)
		for {
			p := peak.Load()
			if now <= p || peak.CompareAndSwap(p, now) {
				break
			}
		}
		go func() { <-stop; conn.Close() }()
		hold(conn, signal)
		conn.Close()
		open.Add(-1)
		if !stopped() {
			closed.Add(1)
		}
		signal()
		pause()
	}
	signal()
}

func pause() {
	select {
	case <-stop:
	case <-time.After(time.Second):
	}
}

// Holds a connection in the attack's way until the server ends it (or stop closes it).
func hold(conn net.Conn, ready func()) {
	switch *attack {
	case "slowloris", "trickle":
		if _, err := io.WriteString(conn, "GET /sequence/last HTTP/1.1\r\nHost: x\r\n"); err != nil {
			return
		}
		ready()
		ended := make(chan struct{})
		go func() { io.Copy(io.Discard, conn); close(ended) }()
		if *attack == "slowloris" || *trickle <= 0 {
			<-ended
			return
		}
		if _, err := io.WriteString(conn, "X-Slow: "); err != nil {
			return
		}
		tick := time.NewTicker(*trickle)
		defer tick.Stop()
		for {
			select {
			case <-ended:
				return
			case <-tick.C:
				if _, err := io.WriteString(conn, "a"); err != nil {
					return
				}
			}
		}
	case "idle":
		if _, err := io.WriteString(conn, "GET /sequence/last HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return
		}
		reader := bufio.NewReader(conn)
		response, err := http.ReadResponse(reader, nil)
		if err != nil {
			return
		}
		io.Copy(io.Discard, response.Body)
		response.Body.Close()
		ready()
		io.Copy(io.Discard, reader)
	case "streams":
		if _, err := io.WriteString(conn, "GET /sequence/stream HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"); err != nil {
			return
		}
		reader := bufio.NewReader(conn)
		kind := firstEvent(reader)
		switch kind {
		case "value":
			streams.Add(1)
		case "busy":
			busy.Add(1)
		}
		ready()
		io.Copy(io.Discard, reader)
	}
}

// The status line's code and the name of the first event ("value" also for a first data line
// without a name), reading at most what one answer's head and first event take.
func firstEvent(reader *bufio.Reader) string {
	kind, _ := firstEventOrError(reader)
	return kind
}

// As firstEvent, with why there was none.
func firstEventOrError(reader *bufio.Reader) (string, error) {
	response, err := http.ReadResponse(reader, &http.Request{Method: "GET"})
	if err != nil {
		return "none", fmt.Errorf("no answer: %w", err)
	}
	if response.StatusCode != 200 || !strings.HasPrefix(response.Header.Get("Content-Type"), "text/event-stream") {
		return fmt.Sprintf("status %d", response.StatusCode), nil
	}
	body := bufio.NewReader(response.Body)
	name := ""
	for {
		line, err := body.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(line, "event:") {
			name = strings.TrimSpace(line[6:])
		}
		if strings.HasPrefix(line, "data:") {
			if name == "" {
				name = "value"
			}
			return name, nil
		}
		if err != nil {
			return "none", fmt.Errorf("200 event stream, then no event: %w", err)
		}
	}
}

func probeLast() probe {
	start := time.Now()
	client := &http.Client{Timeout: *wait, Transport: &http.Transport{DialContext: dialer(*goodFrom, *wait).DialContext, DisableKeepAlives: true}}
	response, err := client.Get("http://" + *target + "/sequence/last")
	p := probe{}
	if err == nil {
		io.Copy(io.Discard, response.Body)
		response.Body.Close()
		p.Status = response.StatusCode
		p.Kind = fmt.Sprint(response.StatusCode)
	} else {
		p.Error = classify(errors.Unwrap(err))
		if p.Error == "" || strings.HasPrefix(p.Error, "other") {
			p.Error = classify(err)
		}
		p.Kind = "none"
	}
	p.Ms = float64(time.Since(start).Microseconds()) / 1000
	return p
}

func probeStream() probe {
	start := time.Now()
	p := probe{Kind: "none"}
	deadline := start.Add(*wait)
	conn, err := dialer(*goodFrom, *wait).Dial("tcp", *target)
	if err == nil {
		defer conn.Close()
		conn.SetDeadline(deadline)
		_, err = io.WriteString(conn, "GET /sequence/stream HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
		if err == nil {
			var why error
			p.Kind, why = firstEventOrError(bufio.NewReader(conn))
			if p.Kind != "none" {
				p.Status = 200
			} else {
				p.Error = why.Error()
			}
		}
	}
	if err != nil {
		p.Error = classify(err)
	}
	p.Ms = float64(time.Since(start).Microseconds()) / 1000
	return p
}

func main() {
	flag.Parse()
	start := time.Now()
	r := result{Attack: *attack, N: *n}
	if *attack != "none" {
		ready := make(chan struct{}, *n)
		slots := make(chan struct{}, *workers)
		deadline := time.After(*setup)
		launched := 0
	launch:
		for launched < *n {
			select {
			case slots <- struct{}{}:
			case <-deadline:
				break launch
			}
			launched++
			go attacker(ready)
			// a slot is given back once its connection is set up (or failed)
			go func() {
				select {
				case <-ready:
				case <-stop:
				}
				<-slots
			}()
		}
		// the last ones to be set up
		for i := 0; i < *workers; i++ {
			select {
			case slots <- struct{}{}:
				continue
			case <-deadline:
			}
			break
		}
	}
	r.SetupMs = float64(time.Since(start).Milliseconds())
	r.OpenAtProbe = open.Load()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); r.Last = probeLast() }()
	go func() { defer wg.Done(); r.Stream = probeStream() }()
	wg.Wait()
	close(stop)
	r.PeakOpen, r.Streams, r.Busy, r.Refused, r.Closed = peak.Load(), streams.Load(), busy.Load(), failed.Load(), closed.Load()
	out, _ := json.Marshal(r)
	fmt.Println("RESULT " + string(out))
	os.Exit(0)
}
