package main

// load fanout: the fan-out benchmark's client (bench.py, fanout_ab.py, cluster.py, stream-memory.sh).
// It opens N server-sent event streams on GET /sequence/stream on loopback, one goroutine per
// connection over every core, and measures the delivery lag of every value event, from the
// emittedAt in its JSON to the moment the client read it, and to the moment it reached the
// client's socket (the kernel's receive time, SO_TIMESTAMPNS: the arrival lag, without the
// client's own queue of goroutines). On stdout, one line each:
//
//	OPEN <n>          every stream is open and has had its first event; the window starts
//	WINDOW <seconds>  the window is over; the harness may now send SIGTERM
//	RESULT <json>     the figures (last line)
//
// Besides the lag (p50, p99, max, and p99 per slice of the window, by emission time, to show
// whether it grows), it checks every stream (checks: ids, gaps), counts heartbeat comments, `busy`
// answers, streams that ended before the window did, and after the window the streams told
// `shutdown` and the streams that ended.
//
// With -ports, it opens -streams streams on each of several instances (bench/cluster.sh: two
// instances of one cluster, or two local ones) and adds the figures of each port's streams to the
// result (by_port); the window is the same for all of them.

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
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

type fanoutOptions struct {
	port, streams, connectConcurrency         int
	ports                                     string
	seconds, slice, openTimeout, closeTimeout float64
}

// The window, in Unix nanoseconds of the wall clock (emittedAt is wall clock); 0 = unset
var windowStart, windowEnd atomic.Int64

// Connections whose kernel would not stamp arrivals (their values have no arrival lag)
var stampFailures atomic.Int64

type sample struct {
	lagMicros     int32
	arrivalMicros int32 // -1 without the kernel's arrival time
	slice         int16
}

type stream struct {
	port        int
	status      int
	events      atomic.Int64 // every event, values or not
	samples     []sample     // only the stream's goroutine touches these until it ends
	checks      checks
	heartbeats  int64
	busy        bool
	shutdown    atomic.Bool
	retryMillis int64
	ended       atomic.Int64 // Unix nanos when the connection ended, 0 while open
	err         string
	conn        *conn
}

func fanout(args []string) {
	var o fanoutOptions
	options("fanout", args, func(f *flagSet) {
		f.IntVar(&o.port, "port", 0, "port of the service on 127.0.0.1 (required, unless -ports)")
		f.StringVar(&o.ports, "ports", "", "ports of several services on 127.0.0.1, comma-separated: -streams on each")
		f.IntVar(&o.streams, "streams", 1000, "how many streams to open (on each port, with -ports)")
		f.Float64Var(&o.seconds, "seconds", 20, "length of the measurement window")
		f.Float64Var(&o.slice, "slice", 10, "length of a slice of the window for the p99 per slice, seconds")
		f.Float64Var(&o.openTimeout, "open-timeout", 120, "seconds to open every stream and get its first event")
		f.Float64Var(&o.closeTimeout, "close-timeout", 15, "seconds to wait for the streams to end after the window")
		f.IntVar(&o.connectConcurrency, "connect-concurrency", 128, "connections being opened at once")
	})
	targets := []int{o.port}
	if o.ports != "" {
		targets = targets[:0]
		for _, text := range strings.Split(o.ports, ",") {
			p, err := strconv.Atoi(strings.TrimSpace(text))
			if err != nil || p <= 0 {
				fmt.Fprintf(os.Stderr, "-ports: %q is not a port\n", text)
				os.Exit(2)
			}
			targets = append(targets, p)
		}
	}
	if targets[0] <= 0 {
		fmt.Fprintln(os.Stderr, "-port or -ports is required")
		os.Exit(2)
	}
	limit := raiseFileLimit()
	total := o.streams * len(targets)
	if uint64(total)+64 > limit {
		fmt.Fprintf(os.Stderr, "%d streams need more file descriptors than the limit of %d\n", total, limit)
	}

	all := make([]*stream, total)
	var failures atomic.Int64
	var connected, finished sync.WaitGroup
	// The gate bounds the dials in progress, not the open streams
	gate := make(chan struct{}, o.connectConcurrency)
	started := time.Now()
	for i := range all {
		// The ports take turns, so that each one's streams open at the same pace
		s := &stream{port: targets[i%len(targets)], checks: newChecks()}
		all[i] = s
		connected.Add(1)
		finished.Add(1)
		gate <- struct{}{}
		go func() {
			defer finished.Done()
			s.run(o.slice, func() {
				<-gate
				connected.Done()
			}, &failures)
		}()
	}
	waitAll(&connected, seconds(o.openTimeout))
	// Every stream has its first event (the current value), or the time is up
	deadline := started.Add(seconds(o.openTimeout))
	ready := 0
	for {
		ready = count(all, func(s *stream) bool { return s.events.Load() >= 1 })
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
	time.Sleep(seconds(o.seconds))
	finish := time.Now()
	windowEnd.Store(finish.UnixNano())
	cpuWindow := cpuSeconds() - cpuBefore
	window := finish.Sub(begin).Seconds()
	endedEarly := count(all, func(s *stream) bool { e := s.ended.Load(); return e != 0 && e < finish.UnixNano() })
	say("WINDOW %.3f", window)
	// The harness sends SIGTERM now; wait for the streams to end
	closeBy := time.Now().Add(seconds(o.closeTimeout))
	for time.Now().Before(closeBy) && count(all, func(s *stream) bool { return s.ended.Load() == 0 }) > 0 {
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
	slices := int(math.Max(1, math.Ceil(window/o.slice-0.05)))
	perSlice := make([][]float64, slices)
	nonOK, busy, heartbeats := 0, 0, int64(0)
	var retries []float64
	errors := map[string]int{}
	for _, s := range all {
		if s.status != 0 && s.status != 200 {
			nonOK++
		}
		if s.shutdown.Load() {
			retries = append(retries, float64(s.retryMillis))
		}
		if s.busy {
			busy++
		}
		if s.err != "" {
			errors[s.err]++
		}
		heartbeats += s.heartbeats
		for _, x := range s.samples {
			ms := float64(x.lagMicros) / 1000.0
			k := int(x.slice)
			if k >= slices {
				k = slices - 1
			}
			if k >= 0 {
				perSlice[k] = append(perSlice[k], ms)
			}
		}
	}
	sliceP99 := make([]interface{}, slices)
	sliceCount := make([]int, slices)
	for i, l := range perSlice {
		sort.Float64s(l)
		sliceP99[i] = figure(l, 99)
		sliceCount[i] = len(l)
	}
	// The reconnect delay of the shutdown events (jittered per stream): its spread, not each value
	sort.Float64s(retries)
	if len(errors) > 8 {
		errors = map[string]int{"(many kinds)": len(errors)}
	}
	result := map[string]interface{}{
		"client":                  "go",
		"requested":               o.streams,
		"connect_failures":        failures.Load(),
		"non_200":                 nonOK,
		"busy":                    busy,
		"open_seconds":            round(openSeconds),
		"window_seconds":          round(window),
		"slice_seconds":           o.slice,
		"lag_p99_ms_slices":       sliceP99,
		"events_slices":           sliceCount,
		"heartbeats":              heartbeats,
		"ended_before_window_end": endedEarly,
		"shutdown_retry_ms": map[string]interface{}{"min": figure(retries, 0), "p50": figure(retries, 50),
			"max": figure(retries, 100)},
		"ended":              ended,
		"errors":             errors,
		"client_cpu_seconds": round(cpuWindow),
		"client_cpu_share":   round(cpuWindow / window),
		"cores":              runtime.NumCPU(),
		"fd_limit":           limit,
		"stamp_failures":     stampFailures.Load(),
	}
	streamFigures(result, all)
	result["ready"] = ready // when the window opened
	if o.ports != "" {
		byPort := map[string]interface{}{}
		for _, p := range targets {
			var mine []*stream
			for _, s := range all {
				if s.port == p {
					mine = append(mine, s)
				}
			}
			figures := map[string]interface{}{
				"ready": count(mine, func(s *stream) bool { return s.events.Load() >= 1 }),
			}
			streamFigures(figures, mine)
			byPort[strconv.Itoa(p)] = figures
		}
		result["by_port"] = byPort
	}
	text, _ := json.Marshal(result)
	say("RESULT %s", text)
}

// streamFigures adds the figures of some streams that the result and each port's share: how many
// opened and were told shutdown, the lag of the window's values to the client's read and to its
// socket, checks.
func streamFigures(figures map[string]interface{}, some []*stream) {
	// The lag to the moment the bytes reached the client's socket (the kernel's time) is without the
	// client's own queue, where thousands of goroutines that got an event at once wait their turn
	var lags, arrivals []float64
	for _, s := range some {
		for _, x := range s.samples {
			lags = append(lags, float64(x.lagMicros)/1000.0)
			if x.arrivalMicros >= 0 {
				arrivals = append(arrivals, float64(x.arrivalMicros)/1000.0)
			}
		}
	}
	sort.Float64s(lags)
	sort.Float64s(arrivals)
	var all checks
	for _, s := range some {
		all.add(&s.checks)
	}
	var lagMax interface{}
	if len(lags) > 0 {
		lagMax = round(lags[len(lags)-1])
	}
	figures["opened"] = count(some, func(s *stream) bool { return s.conn != nil })
	figures["saw_shutdown"] = count(some, func(s *stream) bool { return s.shutdown.Load() })
	figures["events_in_window"] = len(lags)
	figures["lag_p50_ms"] = figure(lags, 50)
	figures["lag_p99_ms"] = figure(lags, 99)
	figures["lag_max_ms"] = lagMax
	figures["arrival_lag_p50_ms"] = figure(arrivals, 50)
	figures["arrival_lag_p99_ms"] = figure(arrivals, 99)
	figures["arrivals_in_window"] = len(arrivals)
	figures["id_violations"] = all.IDViolations
	figures["gaps"] = all.Gaps
	figures["missing_values"] = all.Missing
	figures["values_received"] = all.Values
}

func (s *stream) run(slice float64, dialed func(), failures *atomic.Int64) {
	c, err := dial("127.0.0.1:"+strconv.Itoa(s.port), "", 10*time.Second, 5)
	if err != nil {
		failures.Add(1)
		s.err = err.Error()
		s.ended.Store(time.Now().UnixNano())
		dialed()
		return
	}
	s.conn = c
	if err = c.stampArrivals(); err != nil {
		stampFailures.Add(1)
	}
	dialed()
	defer func() {
		s.ended.Store(time.Now().UnixNano())
		c.Close()
	}()
	if err = c.send(streamPath, acceptEvents...); err != nil {
		s.err = err.Error()
		return
	}
	response, err := c.answer()
	if err != nil {
		s.err = err.Error()
		return
	}
	s.status = response.StatusCode
	body := newEvents(response.Body, "")
	for {
		ev, err := body.next()
		s.heartbeats = body.Comments
		if err != nil {
			if err != io.EOF && !strings.Contains(err.Error(), "closed") {
				s.err = err.Error()
			}
			return
		}
		s.dispatch(ev, c.last, c.arrived, slice)
	}
}

func (s *stream) dispatch(ev *event, received, arrived time.Time, slice float64) {
	if ev.Type == "" && len(ev.Data) == 0 {
		return
	}
	s.events.Add(1)
	switch ev.Type {
	case "shutdown":
		s.shutdown.Store(true)
		s.retryMillis = ev.Retry
		return
	case "busy":
		s.busy = true
		return
	case "value", "":
	default:
		return
	}
	s.checks.value(ev)
	start := windowStart.Load()
	if start == 0 {
		return
	}
	emitted, ok := emittedAt(ev.Data)
	if !ok {
		return
	}
	at := emitted.UnixNano()
	// Only values emitted inside the window: the first event of a stream is an older value
	if end := windowEnd.Load(); at < start || (end != 0 && at > end) {
		return
	}
	arrival := int32(-1)
	if !arrived.IsZero() {
		arrival = micros(arrived.UnixNano() - at)
	}
	s.samples = append(s.samples, sample{lagMicros: micros(received.UnixNano() - at), arrivalMicros: arrival,
		slice: int16((at - start) / int64(slice*1e9))})
}

func micros(nanos int64) int32 {
	if nanos/1000 > math.MaxInt32 {
		return math.MaxInt32
	}
	return int32(nanos / 1000)
}

// figure: a percentile of sorted values at fanout's rank, to three decimals; null if none.
func figure(sorted []float64, p float64) interface{} {
	if v, ok := percentile(sorted, p, 1); ok {
		return round(v)
	}
	return nil
}

func round(v float64) float64 {
	return math.Round(v*1000) / 1000
}

func seconds(s float64) time.Duration {
	return time.Duration(s * float64(time.Second))
}

func count(some []*stream, test func(*stream) bool) int {
	n := 0
	for _, s := range some {
		if test(s) {
			n++
		}
	}
	return n
}

func cpuSeconds() float64 {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	return float64(usage.Utime.Nano()+usage.Stime.Nano()) / 1e9
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
