// Command fanout is the fan-out client of the benchmark (issue 19): it opens N
// server-sent event streams on GET /sequence/stream of graceful-sequence on loopback,
// one goroutine per connection over every core, and measures the delivery lag of
// every value event, from the emittedAt in its JSON to the moment the client read it.
//
// Standard library only. It speaks the same protocol on stdout as bench/streams.py,
// one line each, so that bench/bench.py can use either:
//
//	OPEN <n>          every stream is open and has had its first event; the window starts
//	WINDOW <seconds>  the window is over; the harness may now send SIGTERM
//	RESULT <json>     the figures (last line)
//
// Besides the lag (p50, p99, max, and p99 per slice of the window, by emission time,
// to show whether it grows), it checks every stream: event ids strictly increasing
// (violations must be 0) and no value missing between consecutive indexes (gaps), it
// counts heartbeat comments, `busy` answers, streams that ended before the window
// did, and after the window the streams told `shutdown` and the streams that ended.
// Every phase is bounded in time; the process ends on its own.
//
// With -ports, it opens -streams streams on each of several instances (bench/cluster.sh:
// two instances of one cluster, or two local ones) and adds the figures of each port's
// streams to the result (by_port); the window is the same for all of them.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http/httputil"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var (
	port               = flag.Int("port", 0, "port of the service on 127.0.0.1 (required, unless -ports)")
	ports              = flag.String("ports", "", "ports of several services on 127.0.0.1, comma-separated: -streams on each")
	streams            = flag.Int("streams", 1000, "how many streams to open (on each port, with -ports)")
	seconds            = flag.Float64("seconds", 20, "length of the measurement window")
	slice              = flag.Float64("slice", 10, "length of a slice of the window for the p99 per slice, seconds")
	openTimeout        = flag.Float64("open-timeout", 120, "seconds to open every stream and get its first event")
	closeTimeout       = flag.Float64("close-timeout", 15, "seconds to wait for the streams to end after the window")
	connectConcurrency = flag.Int("connect-concurrency", 128, "connections being opened at once")
)

// The window, in Unix nanoseconds of the wall clock (emittedAt is wall clock); 0 = unset
var windowStart, windowEnd atomic.Int64

type sample struct {
	lagMicros int32
	slice     int16
}

type stream struct {
	port        int
	status      int
	events      atomic.Int64 // every event, values or not
	samples     []sample     // only the stream's goroutine touches these until it ends
	lastID      int64
	lastIndex   int64
	idViolation int64
	gaps        int64 // times a value was missing between two consecutive value events
	missing     int64 // how many values were missing in all
	values      int64
	heartbeats  int64
	busy        bool
	shutdown    atomic.Bool
	retryMillis int64
	ended       atomic.Int64 // Unix nanos when the connection ended, 0 while open
	err         string
	conn        net.Conn
}

// timedReader remembers when the last read from the socket returned: every event
// completed by that read was received then.
type timedReader struct {
	conn net.Conn
	last int64
}

func (r *timedReader) Read(p []byte) (int, error) {
	n, err := r.conn.Read(p)
	r.last = time.Now().UnixNano()
	return n, err
}

func (s *stream) run(dialed func(), failures *atomic.Int64) {
	var conn net.Conn
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		conn, err = net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)), 10*time.Second)
		if err == nil {
			break
		}
		time.Sleep(time.Duration(50*(attempt+1)) * time.Millisecond)
	}
	if err != nil {
		failures.Add(1)
		s.err = err.Error()
		s.ended.Store(time.Now().UnixNano())
		dialed()
		return
	}
	s.conn = conn
	dialed()
	defer func() {
		s.ended.Store(time.Now().UnixNano())
		conn.Close()
	}()
	_, err = io.WriteString(conn, "GET /sequence/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
	if err != nil {
		s.err = err.Error()
		return
	}
	socket := &timedReader{conn: conn}
	head := bufio.NewReaderSize(socket, 4096)
	chunked := false
	line, err := head.ReadString('\n')
	if err != nil {
		s.err = err.Error()
		return
	}
	if fields := strings.Fields(line); len(fields) > 1 {
		s.status, _ = strconv.Atoi(fields[1])
	}
	for {
		line, err = head.ReadString('\n')
		if err != nil {
			s.err = err.Error()
			return
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		if strings.EqualFold(line, "transfer-encoding: chunked") {
			chunked = true
		}
	}
	var body io.Reader = head
	if chunked {
		body = httputil.NewChunkedReader(head)
	}
	s.read(bufio.NewReaderSize(body, 4096), socket)
}

// read parses the event stream: field lines until a blank line, comments ignored
// (counted as heartbeats).
func (s *stream) read(body *bufio.Reader, socket *timedReader) {
	var name string
	var id int64 = -1
	var data []byte
	var retry int64 = -1
	for {
		line, err := body.ReadSlice('\n')
		if err != nil {
			if err != io.EOF && !strings.Contains(err.Error(), "closed") {
				s.err = err.Error()
			}
			return
		}
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case len(line) == 0:
			s.dispatch(name, id, data, retry, socket.last)
			name, id, data, retry = "", -1, data[:0], -1
		case line[0] == ':':
			s.heartbeats++
		case bytes.HasPrefix(line, []byte("event: ")):
			name = string(line[7:])
		case bytes.HasPrefix(line, []byte("id: ")):
			id, _ = strconv.ParseInt(string(line[4:]), 10, 64)
		case bytes.HasPrefix(line, []byte("data: ")):
			data = append(data, line[6:]...)
		case bytes.HasPrefix(line, []byte("retry: ")):
			retry, _ = strconv.ParseInt(string(line[7:]), 10, 64)
		}
	}
}

var (
	emittedKey = []byte(`"emittedAt":"`)
	indexKey   = []byte(`"index":`)
)

func (s *stream) dispatch(name string, id int64, data []byte, retry int64, received int64) {
	if name == "" && len(data) == 0 {
		return
	}
	s.events.Add(1)
	switch name {
	case "shutdown":
		s.shutdown.Store(true)
		s.retryMillis = retry
		return
	case "busy":
		s.busy = true
		return
	case "value", "":
	default:
		return
	}
	s.values++
	if id >= 0 {
		if s.lastID >= 0 && id <= s.lastID {
			s.idViolation++
		}
		s.lastID = id
	}
	if i := bytes.Index(data, indexKey); i >= 0 {
		rest := data[i+len(indexKey):]
		end := bytes.IndexAny(rest, ",}")
		if end > 0 {
			index, err := strconv.ParseInt(string(bytes.TrimSpace(rest[:end])), 10, 64)
			if err == nil {
				if s.lastIndex > 0 && index > s.lastIndex+1 {
					s.gaps++
					s.missing += index - s.lastIndex - 1
				}
				s.lastIndex = index
			}
		}
	}
	start := windowStart.Load()
	if start == 0 {
		return
	}
	i := bytes.Index(data, emittedKey)
	if i < 0 {
		return
	}
	rest := data[i+len(emittedKey):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return
	}
	emitted, err := time.Parse(time.RFC3339Nano, string(rest[:j]))
	if err != nil {
		return
	}
	at := emitted.UnixNano()
	// Only values emitted inside the window: the first event of a stream is an older value
	if end := windowEnd.Load(); at < start || (end != 0 && at > end) {
		return
	}
	lag := (received - at) / 1000
	if lag > math.MaxInt32 {
		lag = math.MaxInt32
	}
	s.samples = append(s.samples, sample{lagMicros: int32(lag), slice: int16((at - start) / int64(*slice*1e9))})
}

func say(format string, args ...interface{}) {
	fmt.Fprintf(os.Stdout, format+"\n", args...)
}

// percentile as bench/streams.py computes it (nearest rank)
func percentile(sorted []float64, p float64) interface{} {
	if len(sorted) == 0 {
		return nil
	}
	k := int(math.Round(p/100.0*float64(len(sorted))+0.5)) - 1
	if k < 0 {
		k = 0
	}
	if k > len(sorted)-1 {
		k = len(sorted) - 1
	}
	return round(sorted[k])
}

func round(v float64) float64 {
	return math.Round(v*1000) / 1000
}

func cpuSeconds() float64 {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	return float64(usage.Utime.Nano()+usage.Stime.Nano()) / 1e9
}

func main() {
	flag.Parse()
	targets := []int{*port}
	if *ports != "" {
		targets = targets[:0]
		for _, field := range strings.Split(*ports, ",") {
			p, err := strconv.Atoi(strings.TrimSpace(field))
			if err != nil || p <= 0 {
				fmt.Fprintf(os.Stderr, "-ports: %q is not a port\n", field)
				os.Exit(2)
			}
			targets = append(targets, p)
		}
	}
	if targets[0] <= 0 {
		fmt.Fprintln(os.Stderr, "-port or -ports is required")
		os.Exit(2)
	}
	// Each stream takes a file descriptor: raise the soft limit to the hard one
	var limit syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &limit) == nil && limit.Cur < limit.Max {
		limit.Cur = limit.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &limit)
	}
	_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &limit)
	total := *streams * len(targets)
	if uint64(total)+64 > limit.Cur {
		fmt.Fprintf(os.Stderr, "%d streams need more file descriptors than the limit of %d\n", total, limit.Cur)
	}

	all := make([]*stream, total)
	var failures atomic.Int64
	var connected, finished sync.WaitGroup
	// The gate bounds the dials in progress, not the open streams
	gate := make(chan struct{}, *connectConcurrency)
	started := time.Now()
	for i := range all {
		// The ports take turns, so that each one's streams open at the same pace
		s := &stream{lastID: -1, port: targets[i%len(targets)]}
		all[i] = s
		connected.Add(1)
		finished.Add(1)
		gate <- struct{}{}
		go func() {
			defer finished.Done()
			s.run(func() {
				<-gate
				connected.Done()
			}, &failures)
		}()
	}
	waitAll(&connected, time.Duration(*openTimeout*float64(time.Second)))
	// Every stream has its first event (the current value), or the time is up
	deadline := started.Add(time.Duration(*openTimeout * float64(time.Second)))
	ready := 0
	for {
		ready = 0
		for _, s := range all {
			if s.events.Load() >= 1 {
				ready++
			}
		}
		if ready == len(all) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	openSeconds := time.Since(started).Seconds()
	cpuBefore := cpuSeconds()
	begin := time.Now()
	windowStart.Store(begin.UnixNano())
	say("OPEN %d", ready)
	time.Sleep(time.Duration(*seconds * float64(time.Second)))
	finish := time.Now()
	windowEnd.Store(finish.UnixNano())
	cpuWindow := cpuSeconds() - cpuBefore
	window := finish.Sub(begin).Seconds()
	endedEarly := 0
	for _, s := range all {
		if e := s.ended.Load(); e != 0 && e < finish.UnixNano() {
			endedEarly++
		}
	}
	say("WINDOW %.3f", window)
	// The harness sends SIGTERM now; wait for the streams to end
	closeBy := time.Now().Add(time.Duration(*closeTimeout * float64(time.Second)))
	for time.Now().Before(closeBy) {
		open := 0
		for _, s := range all {
			if s.ended.Load() == 0 {
				open++
			}
		}
		if open == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	ended := 0
	for _, s := range all {
		if s.ended.Load() != 0 {
			ended++
		} else if s.conn != nil {
			s.conn.Close()
		}
	}
	// The goroutines of the connections closed just now return, and their figures are final
	waitAll(&finished, 5*time.Second)

	// A window a few milliseconds over a whole number of slices has no slice of its own for them
	slices := int(math.Max(1, math.Ceil(window / *slice - 0.05)))
	perSlice := make([][]float64, slices)
	var lags []float64
	opened, nonOK, shutdown, busy, heartbeats := 0, 0, 0, 0, int64(0)
	var violations, gaps, missing, values int64
	var retries []float64
	errors := map[string]int{}
	for _, s := range all {
		if s.conn != nil {
			opened++
		}
		if s.status != 0 && s.status != 200 {
			nonOK++
		}
		if s.shutdown.Load() {
			shutdown++
			retries = append(retries, float64(s.retryMillis))
		}
		if s.busy {
			busy++
		}
		if s.err != "" {
			errors[s.err]++
		}
		heartbeats += s.heartbeats
		violations += s.idViolation
		gaps += s.gaps
		missing += s.missing
		values += s.values
		for _, x := range s.samples {
			ms := float64(x.lagMicros) / 1000.0
			lags = append(lags, ms)
			k := int(x.slice)
			if k >= slices {
				k = slices - 1
			}
			if k >= 0 {
				perSlice[k] = append(perSlice[k], ms)
			}
		}
	}
	sort.Float64s(lags)
	sliceP99 := make([]interface{}, slices)
	sliceCount := make([]int, slices)
	for i, l := range perSlice {
		sort.Float64s(l)
		sliceP99[i] = percentile(l, 99)
		sliceCount[i] = len(l)
	}
	// The reconnect delay of the shutdown events (jittered per stream): its spread, not each value
	sort.Float64s(retries)
	retry := map[string]interface{}{"min": percentile(retries, 0), "p50": percentile(retries, 50),
		"max": percentile(retries, 100)}
	var lagMax interface{}
	if len(lags) > 0 {
		lagMax = round(lags[len(lags)-1])
	}
	if len(errors) > 8 {
		errors = map[string]int{"(many kinds)": len(errors)}
	}
	result := map[string]interface{}{
		"client":                  "go",
		"requested":               *streams,
		"opened":                  opened,
		"connect_failures":        failures.Load(),
		"non_200":                 nonOK,
		"busy":                    busy,
		"ready":                   ready,
		"open_seconds":            round(openSeconds),
		"window_seconds":          round(window),
		"events_in_window":        len(lags),
		"lag_p50_ms":              percentile(lags, 50),
		"lag_p99_ms":              percentile(lags, 99),
		"lag_max_ms":              lagMax,
		"slice_seconds":           *slice,
		"lag_p99_ms_slices":       sliceP99,
		"events_slices":           sliceCount,
		"id_violations":           violations,
		"gaps":                    gaps,
		"missing_values":          missing,
		"values_received":         values,
		"heartbeats":              heartbeats,
		"ended_before_window_end": endedEarly,
		"saw_shutdown":            shutdown,
		"shutdown_retry_ms":       retry,
		"ended":                   ended,
		"errors":                  errors,
		"client_cpu_seconds":      round(cpuWindow),
		"client_cpu_share":        round(cpuWindow / window),
		"cores":                   runtime.NumCPU(),
		"fd_limit":                limit.Cur,
	}
	if *ports != "" {
		result["by_port"] = byPort(all, targets)
	}
	text, _ := json.Marshal(result)
	say("RESULT %s", text)
}

// byPort gives the figures of each port's streams on their own: lag, values, checks.
func byPort(all []*stream, targets []int) map[string]interface{} {
	found := map[string]interface{}{}
	for _, p := range targets {
		var lags []float64
		opened, ready, shutdown := 0, 0, 0
		var violations, gaps, missing, values int64
		for _, s := range all {
			if s.port != p {
				continue
			}
			if s.conn != nil {
				opened++
			}
			if s.events.Load() >= 1 {
				ready++
			}
			if s.shutdown.Load() {
				shutdown++
			}
			violations += s.idViolation
			gaps += s.gaps
			missing += s.missing
			values += s.values
			for _, x := range s.samples {
				lags = append(lags, float64(x.lagMicros)/1000.0)
			}
		}
		sort.Float64s(lags)
		var lagMax interface{}
		if len(lags) > 0 {
			lagMax = round(lags[len(lags)-1])
		}
		found[strconv.Itoa(p)] = map[string]interface{}{
			"opened":           opened,
			"ready":            ready,
			"events_in_window": len(lags),
			"lag_p50_ms":       percentile(lags, 50),
			"lag_p99_ms":       percentile(lags, 99),
			"lag_max_ms":       lagMax,
			"id_violations":    violations,
			"gaps":             gaps,
			"missing_values":   missing,
			"values_received":  values,
			"saw_shutdown":     shutdown,
		}
	}
	return found
}

func waitAll(group *sync.WaitGroup, limit time.Duration) {
	done := make(chan struct{})
	go func() {
		group.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(limit):
	}
}
