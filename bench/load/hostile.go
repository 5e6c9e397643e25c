package main

// load hostile: the client of bench/hostile.sh. One address attacks, another behaves.
//
// The attacker (from -from) opens -n connections to -target, -workers at a time, and holds each
// for as long as the server lets it; one the server closes is opened again after a second, until
// the end. Kinds (-attack):
//
//	slowloris  sends the head of GET /sequence/last up to its Host header, then nothing more
//	trickle    the same, then one header byte every -trickle
//	idle       makes one request for /sequence/last, reads the answer, then stays idle
//	streams    asks for /sequence/stream (Accept: text/event-stream) and reads what comes
//	none       no attack: the baseline
//
// Once the attack is set up (every connection tried, or -setup passed), the well-behaved client
// (from -good-from) asks, at the same time, for GET /sequence/last and for a stream on new
// connections, each bounded by -wait, and records how long each waited and what it got. Prints
// one line: RESULT <json>.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type hostileOptions struct {
	target, from, goodFrom, attack string
	n, workers                     int
	trickle, setup, wait           time.Duration
}

type probe struct {
	Ms     float64 `json:"ms"`
	Status int     `json:"status"`
	Kind   string  `json:"kind"` // last: the status; stream: value, busy, other
	Error  string  `json:"error,omitempty"`
}

type attackResult struct {
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

// attacker holds the attack's connections and counts what happens to them.
type attacker struct {
	hostileOptions
	open, peak, streams, busy, failed, closed atomic.Int64
	stop                                      chan struct{}
}

func hostile(args []string) {
	var o hostileOptions
	options("hostile", args, func(f *flagSet) {
		f.StringVar(&o.target, "target", "127.0.0.1:3333", "host:port")
		f.StringVar(&o.from, "from", "127.0.0.1", "the attacker's source address")
		f.StringVar(&o.goodFrom, "good-from", "127.0.0.2", "the well-behaved client's source address")
		f.StringVar(&o.attack, "attack", "none", "slowloris, trickle, idle, streams or none")
		f.IntVar(&o.n, "n", 100, "attack connections")
		f.IntVar(&o.workers, "workers", 256, "connections opened at once")
		f.DurationVar(&o.trickle, "trickle", 5*time.Second, "trickle: a header byte this often")
		f.DurationVar(&o.setup, "setup", 60*time.Second, "bound on setting the attack up")
		f.DurationVar(&o.wait, "wait", 120*time.Second, "bound on each of the well-behaved client's waits")
	})
	raiseFileLimit()
	a := &attacker{hostileOptions: o, stop: make(chan struct{})}
	start := time.Now()
	r := attackResult{Attack: o.attack, N: o.n}
	if o.attack != "none" {
		a.setUp()
	}
	r.SetupMs = float64(time.Since(start).Milliseconds())
	r.OpenAtProbe = a.open.Load()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); r.Last = a.probe("/sequence/last", "Connection", "close") }()
	go func() { defer wg.Done(); r.Stream = a.probe(streamPath, acceptEvents...) }()
	wg.Wait()
	close(a.stop)
	r.PeakOpen, r.Streams, r.Busy, r.Refused, r.Closed = a.peak.Load(), a.streams.Load(), a.busy.Load(),
		a.failed.Load(), a.closed.Load()
	out, _ := json.Marshal(r)
	say("RESULT %s", out)
}

// setUp starts the attack's connections, -workers at a time, until each is set up (or failed)
// or -setup has passed.
func (a *attacker) setUp() {
	ready := make(chan struct{}, a.n)
	slots := make(chan struct{}, a.workers)
	deadline := time.After(a.setup)
	for launched := 0; launched < a.n; launched++ {
		select {
		case slots <- struct{}{}:
		case <-deadline:
			return
		}
		go a.hold(ready)
		// a slot is given back once its connection is set up (or failed)
		go func() {
			select {
			case <-ready:
			case <-a.stop:
			}
			<-slots
		}()
	}
	// the last ones to be set up
	for i := 0; i < a.workers; i++ {
		select {
		case slots <- struct{}{}:
		case <-deadline:
			return
		}
	}
}

// hold keeps one attack connection, opened again a second after each time it ends, until stop.
func (a *attacker) hold(ready chan<- struct{}) {
	first := true
	signal := func() {
		if first {
			first = false
			ready <- struct{}{}
		}
	}
	for !stopped(a.stop) {
		c, err := dial(a.target, a.from, 10*time.Second, 1)
		if err != nil {
			a.failed.Add(1)
			signal()
			pause(a.stop, time.Second)
			continue
		}
		now := a.open.Add(1)
		for {
			p := a.peak.Load()
			if now <= p || a.peak.CompareAndSwap(p, now) {
				break
			}
		}
		go func() { <-a.stop; c.Close() }()
		a.occupy(c, signal)
		c.Close()
		a.open.Add(-1)
		if !stopped(a.stop) {
			a.closed.Add(1)
		}
		signal()
		pause(a.stop, time.Second)
	}
	signal()
}

// occupy stands in the server's way on one connection until the server ends it (or stop closes it).
func (a *attacker) occupy(c *conn, ready func()) {
	switch a.attack {
	case "slowloris", "trickle":
		// The head of a request, without the blank line that would end it
		if _, err := io.WriteString(c, strings.TrimSuffix(c.request("/sequence/last"), "\r\n")); err != nil {
			return
		}
		ready()
		ended := make(chan struct{})
		go func() { _, _ = io.Copy(io.Discard, c); close(ended) }()
		if a.attack == "slowloris" || a.trickle <= 0 {
			<-ended
			return
		}
		if _, err := io.WriteString(c, "X-Slow: "); err != nil {
			return
		}
		tick := time.NewTicker(a.trickle)
		defer tick.Stop()
		for {
			select {
			case <-ended:
				return
			case <-tick.C:
				if _, err := io.WriteString(c, "a"); err != nil {
					return
				}
			}
		}
	case "idle":
		if c.send("/sequence/last") != nil {
			return
		}
		response, err := c.answer()
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, response.Body)
		response.Body.Close()
		ready()
		_, _ = io.Copy(io.Discard, c.br)
	case "streams":
		if c.send(streamPath, acceptEvents...) != nil {
			return
		}
		switch kind, _ := firstEvent(c); kind {
		case "value":
			a.streams.Add(1)
		case "busy":
			a.busy.Add(1)
		}
		ready()
		_, _ = io.Copy(io.Discard, c.br)
	}
}

// firstEvent reads the answer's head and, for a 200 event stream, its first event: the event's
// type ("value" also for one without a type), or "status N" for another answer; "none" and why
// if there was none.
func firstEvent(c *conn) (string, error) {
	response, err := c.answer()
	if err != nil {
		return "none", fmt.Errorf("no answer: %w", err)
	}
	if response.StatusCode != http.StatusOK || !isEventStream(response) {
		return fmt.Sprintf("status %d", response.StatusCode), nil
	}
	body := newEvents(response.Body, "")
	for {
		ev, err := body.next()
		if err != nil {
			return "none", fmt.Errorf("200 event stream, then no event: %w", err)
		}
		if ev.Lines > 0 && ev.Type == "" {
			return "value", nil
		} else if ev.Lines > 0 {
			return ev.Type, nil
		}
	}
}

// probe is the well-behaved client: a GET of path on a new connection from -good-from, bounded by
// -wait. For a stream, what its first event was; for another path, the answer's status.
func (a *attacker) probe(path string, headers ...string) probe {
	start := time.Now()
	p := probe{Kind: "none"}
	c, err := dial(a.target, a.goodFrom, a.wait, 1)
	if err == nil {
		defer c.Close()
		_ = c.SetDeadline(start.Add(a.wait))
		err = c.send(path, headers...)
	}
	switch {
	case err != nil:
		p.Error = hostileWord(err)
	case path == streamPath:
		var why error
		if p.Kind, why = firstEvent(c); p.Kind != "none" {
			p.Status = http.StatusOK
		} else {
			p.Error = why.Error()
		}
	default:
		if response, err := c.answer(); err != nil {
			p.Error = hostileWord(err)
		} else {
			_, _ = io.Copy(io.Discard, response.Body)
			p.Status, p.Kind = response.StatusCode, fmt.Sprint(response.StatusCode)
		}
	}
	p.Ms = float64(time.Since(start).Microseconds()) / 1000
	return p
}

// hostileWord: classify's word, with the connection closed called so, as hostile.sh's tables say.
func hostileWord(err error) string {
	if word := classify(err); word != "eof" {
		return word
	}
	return "closed"
}
