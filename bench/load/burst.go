package main

// load burst: the client of bench/stream-burst.sh. It starts N requests for GET /sequence/stream
// (Accept: text/event-stream) on 127.0.0.1 one after the other, without waiting for any answer,
// and records for each client whether it connected, the status and content type of its answer,
// whether the answer was a value event or a busy event with a retry, and when it came, counted
// from the start of the first client. No client retries. A client keeps its connection for as
// long as the server does: a stream until the service shuts down, a busy answer until the server
// closes it (a keep-alive connection stays open, as a browser's would). On stdout, one line each:
//
//	SETTLED <json>   every client has its answer or has failed; the harness may now check the
//	                 service and send SIGTERM
//	RESULT <json>    every connection has ended (or the close timeout passed); last line
//
// and one CSV line per client to -csv.

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

type client struct {
	Index        int
	StartMs      float64 // when it started to connect, from the first client's start
	Connected    bool
	ConnectMs    float64 // when the connection was established
	ConnectError string  // timeout, refused, reset, other: ...
	Status       int
	ContentType  string
	ConnClose    bool   // the answer carried Connection: close
	Kind         string // value, busy, none
	Retry        int    // the busy event's retry, ms; -1 if none
	AnswerMs     float64
	AnswerError  string // when connected but no answer: timeout, reset, eof, ...
	ServerClosed bool   // the server closed the connection (after a busy answer, or a stream's end)
	ClosedMs     float64
	Shutdown     bool // a stream that got the shutdown event
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (cl *client) run(addr string, t0 time.Time, connectTimeout time.Duration, answerBy, closeBy time.Time,
	settled *sync.WaitGroup, conns chan<- net.Conn) {
	answered := false
	defer func() {
		if !answered {
			settled.Done()
		}
	}()
	cl.StartMs = ms(time.Since(t0))
	c, err := dial(addr, "", connectTimeout, 1)
	if err != nil {
		cl.ConnectError = classify(err)
		return
	}
	conns <- c.Conn
	cl.Connected = true
	cl.ConnectMs = ms(time.Since(t0))
	_ = c.SetDeadline(answerBy)
	if err := c.send(streamPath, acceptEvents...); err != nil {
		cl.AnswerError = "write: " + classify(err)
		return
	}
	response, err := c.answer()
	if err != nil {
		cl.AnswerError = classify(err)
		return
	}
	cl.Status = response.StatusCode
	cl.ContentType = response.Header.Get("Content-Type")
	cl.ConnClose = response.Close
	stream := isEventStream(response)
	body := newEvents(response.Body, "")
	first := &event{Retry: -1}
	if stream {
		first, err = body.next()
	} else {
		_, err = io.Copy(io.Discard, response.Body)
	}
	if err != nil && !(errors.Is(err, io.EOF) && !stream) {
		cl.AnswerError = "body: " + classify(err)
		return
	}
	cl.AnswerMs = ms(time.Since(t0))
	cl.Retry = int(first.Retry)
	cl.Kind = first.Type
	if cl.Kind == "" {
		cl.Kind = "none"
	}
	answered = true
	settled.Done()
	// Keep the connection for as long as the server does, within the close timeout
	_ = c.SetDeadline(closeBy)
	if cl.Kind == "value" {
		for {
			ev, err := body.next()
			if err != nil {
				break
			}
			cl.Shutdown = cl.Shutdown || ev.Type == "shutdown"
		}
	} else {
		_, _ = io.Copy(io.Discard, response.Body)
	}
	// After the body (or the stream's end): does the server close the connection?
	var one [1]byte
	if _, err = c.br.Read(one[:]); err != nil && classify(err) != "timeout" {
		cl.ServerClosed = true
		cl.ClosedMs = ms(time.Since(t0))
	}
}

func summary(cs []client, within time.Duration) map[string]any {
	count := map[string]int{}
	var answers, connects []float64
	var lastAnswer, lastConnect float64
	inTime := 0
	for i := range cs {
		c := &cs[i]
		if !c.Connected {
			count["connect_failed:"+c.ConnectError]++
			continue
		}
		count["connected"]++
		connects = append(connects, c.ConnectMs)
		if c.ConnectMs > lastConnect {
			lastConnect = c.ConnectMs
		}
		if c.AnswerError != "" {
			count["no_answer:"+c.AnswerError]++
			continue
		}
		key := fmt.Sprintf("answer:%d %s %s", c.Status, c.ContentType, c.Kind)
		if c.Kind == "busy" && c.Retry >= 0 {
			key += " retry"
		}
		count[key]++
		answers = append(answers, c.AnswerMs)
		if c.AnswerMs > lastAnswer {
			lastAnswer = c.AnswerMs
		}
		good := c.Status == 200 && strings.HasPrefix(c.ContentType, "text/event-stream") &&
			(c.Kind == "value" || (c.Kind == "busy" && c.Retry >= 0))
		if good {
			count["good"]++
			if c.AnswerMs <= ms(within) {
				inTime++
			}
		}
		if c.Kind == "busy" {
			if c.ConnClose {
				count["busy_connection_close"]++
			}
			if c.ServerClosed {
				count["busy_closed_by_server"]++
			}
		}
		if c.Kind == "value" && c.Shutdown {
			count["stream_saw_shutdown"]++
		}
	}
	sort.Float64s(answers)
	sort.Float64s(connects)
	return map[string]any{
		"clients":            len(cs),
		"counts":             count,
		"good_within_ms":     ms(within),
		"good_within":        inTime,
		"last_answer_ms":     lastAnswer,
		"answer_p50_ms":      burstFigure(answers, 50),
		"answer_p99_ms":      burstFigure(answers, 99),
		"last_connect_ms":    lastConnect,
		"connect_p99_ms":     burstFigure(connects, 99),
		"last_start_ms":      cs[len(cs)-1].StartMs,
		"every_client_good":  inTime == len(cs),
		"answered_all_by_ms": lastAnswer,
	}
}

// burstFigure: a percentile at burst's rank, 0 if none.
func burstFigure(sorted []float64, p float64) float64 {
	v, _ := percentile(sorted, p, 0.5)
	return v
}

func burst(args []string) {
	var port, n int
	var interval, connectTimeout, answerDeadline, within, closeTimeout time.Duration
	var csvPath string
	options("burst", args, func(f *flagSet) {
		f.IntVar(&port, "port", 0, "the service's port on 127.0.0.1")
		f.IntVar(&n, "clients", 10000, "how many stream requests")
		f.DurationVar(&interval, "interval", 0, "pause between the starts of two clients")
		f.DurationVar(&connectTimeout, "connect-timeout", 10*time.Second, "each client's connect timeout")
		f.DurationVar(&answerDeadline, "answer-deadline", 120*time.Second, "from the first start: a client still without an answer gives up")
		f.DurationVar(&within, "within", 60*time.Second, "the pass criterion: answered within this from the first start")
		f.DurationVar(&closeTimeout, "close-timeout", 60*time.Second, "after SETTLED: how long connections are kept at most")
		f.StringVar(&csvPath, "csv", "", "where to write one line per client")
	})
	if port == 0 {
		fmt.Fprintln(os.Stderr, "-port is required")
		os.Exit(2)
	}
	raiseFileLimit()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cs := make([]client, n)
	var settled, done sync.WaitGroup
	settled.Add(n)
	done.Add(n)
	conns := make(chan net.Conn, n)
	t0 := time.Now()
	answerBy := t0.Add(answerDeadline)
	closeBy := answerBy.Add(closeTimeout) // every connection is closed earlier, below
	for i := 0; i < n; i++ {
		cs[i].Index = i
		go func(cl *client) {
			defer done.Done()
			cl.run(addr, t0, connectTimeout, answerBy, closeBy, &settled, conns)
		}(&cs[i])
		if interval > 0 {
			time.Sleep(interval)
		}
	}
	settled.Wait()
	s := summary(cs, within)
	s["settled_ms"] = ms(time.Since(t0))
	line, _ := json.Marshal(s)
	say("SETTLED %s", line)
	// The harness now sends SIGTERM; streams end with the shutdown. Bound the wait.
	finished := make(chan struct{})
	go func() { done.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(closeTimeout):
	}
	close(conns)
	for c := range conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		c.Close()
	}
	select {
	case <-finished:
	case <-time.After(2 * time.Second):
	}
	if csvPath != "" {
		writeClients(csvPath, cs)
	}
	r := summary(cs, within)
	r["settled_ms"] = s["settled_ms"]
	line, _ = json.Marshal(r)
	say("RESULT %s", line)
}

func writeClients(path string, cs []client) {
	f, err := os.Create(path)
	if err != nil {
		return
	}
	defer f.Close()
	w := csv.NewWriter(f)
	_ = w.Write([]string{"index", "start_ms", "connected", "connect_ms", "connect_error", "status", "content_type",
		"connection_close", "kind", "retry_ms", "answer_ms", "answer_error", "server_closed", "closed_ms", "shutdown"})
	for _, c := range cs {
		_ = w.Write([]string{strconv.Itoa(c.Index), fmt.Sprint(c.StartMs), strconv.FormatBool(c.Connected),
			fmt.Sprint(c.ConnectMs), c.ConnectError, strconv.Itoa(c.Status), c.ContentType,
			strconv.FormatBool(c.ConnClose), c.Kind, strconv.Itoa(c.Retry), fmt.Sprint(c.AnswerMs),
			c.AnswerError, strconv.FormatBool(c.ServerClosed), fmt.Sprint(c.ClosedMs), strconv.FormatBool(c.Shutdown)})
	}
	w.Flush()
}
