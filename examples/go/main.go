// Streams a turn, answers its approval, and resumes the stream after a dropped connection.
// Go standard library only. Run against a server:
//
//	CLAUDE_CODE_REST_URL=http://127.0.0.1:3050 CLAUDE_CODE_REST_KEY=ccr_… go run main.go "Create hello.py"
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
)

var base = envOr("CLAUDE_CODE_REST_URL", "http://127.0.0.1:3050") + "/api/v1"
var key = os.Getenv("CLAUDE_CODE_REST_KEY")

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

type event struct {
	ID, Name string
	Data     map[string]any
}

func request(method, path string, body any, headers map[string]string) *http.Response {
	var reader io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		reader = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+path, reader)
	req.Header.Set("x-api-key", key)
	req.Header.Set("content-type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	if res.StatusCode >= 400 {
		text, _ := io.ReadAll(res.Body)
		panic(fmt.Sprintf("%s %s: %d %s", method, path, res.StatusCode, text))
	}
	return res
}

func api(method, path string, body any) map[string]any {
	res := request(method, path, body, nil)
	defer res.Body.Close()
	out := map[string]any{}
	_ = json.NewDecoder(res.Body).Decode(&out)
	return out
}

// events sends each event of an SSE response on the channel (`: ping` comments skipped).
func events(res *http.Response) <-chan event {
	ch := make(chan event)
	go func() {
		defer close(ch)
		scanner := bufio.NewScanner(res.Body)
		scanner.Buffer(make([]byte, 1<<20), 16<<20)
		e := event{Name: "message"}
		data := ""
		for scanner.Scan() {
			line := scanner.Text()
			switch {
			case line == "":
				if data != "" {
					_ = json.Unmarshal([]byte(data), &e.Data)
					ch <- e
				}
				e, data = event{Name: "message"}, ""
			case strings.HasPrefix(line, "id: "):
				e.ID = line[4:]
			case strings.HasPrefix(line, "event: "):
				e.Name = line[7:]
			case strings.HasPrefix(line, "data: "):
				data += line[6:]
			}
		}
	}()
	return ch
}

func main() {
	prompt := "Create hello.py that prints hello"
	if len(os.Args) > 1 {
		prompt = os.Args[1]
	}
	sessionID := api("POST", "/sessions", map[string]any{"permissionMode": "default"})["sessionId"].(string)
	fmt.Println("session:", sessionID)

	lastID, turnID := "", ""
	show := func(e event) {
		if e.ID != "" {
			lastID = e.ID
		}
		if turnID == "" {
			if id, ok := e.Data["messageId"].(string); ok {
				turnID = id
			} else if id, ok := e.Data["turnId"].(string); ok {
				turnID = id
			}
		}
		if e.Name == "message" {
			for _, p := range e.Data["summary"].([]any) {
				part := p.(map[string]any)
				if part["type"] == "text" && e.Data["role"] == "assistant" {
					fmt.Println("assistant:", part["text"])
				}
				if part["type"] == "tool_use" {
					fmt.Println("tool:", part["name"])
				}
			}
		}
	}

	// 1. Start the turn and stream it until it asks for an approval.
	stream := map[string]string{"accept": "text/event-stream"}
	first := request("POST", "/sessions/"+sessionID+"/stream", map[string]any{"prompt": prompt}, stream)
	answered := false
	for e := range events(first) {
		show(e)
		if e.Name == "permission_request" {
			// 2. Answer it: allow this one call.
			api("POST", "/sessions/"+sessionID+"/permissions/"+e.Data["requestId"].(string), map[string]any{"decision": "allow"})
			fmt.Printf("approval: %s -> allow\n", e.Data["toolName"])
			answered = true
		}
		if (answered && e.Name == "permission_resolved") || e.Name == "complete" || e.Name == "error" {
			break
		}
	}
	// 3. The connection drops (here on purpose); the turn goes on on the server.
	first.Body.Close()
	fmt.Println("dropped the stream after event", lastID)

	// 4. Resume that turn's stream after the last event seen: nothing is missed or repeated.
	stream["last-event-id"] = lastID
	resumed := request("GET", "/sessions/"+sessionID+"/stream?messageId="+url.QueryEscape(turnID), nil, stream)
	fmt.Println("resumed after", lastID)
	for e := range events(resumed) {
		show(e)
		if e.Name == "complete" {
			fmt.Printf("complete: %s ($%v)\n", e.Data["response"], e.Data["costUsd"])
		}
		if e.Name == "error" {
			fmt.Printf("error: %v %v\n", e.Data["code"], e.Data["message"])
		}
	}
	resumed.Body.Close()

	request("DELETE", "/sessions/"+sessionID, nil, nil).Body.Close()
	fmt.Println("ended")
}
