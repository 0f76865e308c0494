// Seed client example: Go, copied VERBATIM from the user's document "Claude Code REST API Examples" (docs/seed/claude-code-rest-api-examples.md),
// section "Go". CI runs it (`go run main.go`) against the real server from
// test/clients/seed-examples.test.ts.
//
// Edits to the seed's code, and only these:
//   1. Removed the two import lines `"bufio"` and `"strings"`: the seed imports them without
//      using them, and Go refuses to compile a file with unused imports ("imported and not
//      used"). Removing them is the smaller edit than keeping them alive with
//      `var _ = bufio.NewReader; var _ = strings.Split`: it only deletes what the compiler
//      rejects and adds no code the author did not write; the program does exactly the same.
//   2. `const API_BASE = "<the seed's URL>"` became a `var` that takes CLAUDE_API_BASE from the
//      environment when set, else the seed's URL, so the environment names the server, as it
//      already does the key (CLAUDE_API_KEY, the seed's own).
//
// Not an edit: the test runs a copy in a temp dir with CLAUDE_API_BASE (the test server, as
// `localhost:<port>`) and CLAUDE_API_KEY set. Needs Go (Debian golang-go, 1.19; standard library
// only, so no go.mod). Everything below the marker line is the seed's text, byte for byte, but for
// edits 1 and 2; seed-examples.test.ts checks it.
// ---- seed example below ----
package main

import (
    "bytes"
    "encoding/json"
    "fmt"
    "net/http"
    "os"
)

var API_BASE = func() string { if v := os.Getenv("CLAUDE_API_BASE"); v != "" { return v }; return "http://localhost:3050/api/v1" }()

type SessionRequest struct {
    Model          string `json:"model"`
    PermissionMode string `json:"permissionMode"`
    MaxTurns       int    `json:"maxTurns"`
}

type SessionResponse struct {
    SessionID string `json:"sessionId"`
}

type MessageRequest struct {
    Prompt string `json:"prompt"`
    Stream bool   `json:"stream"`
}

type MessageResponse struct {
    Response string `json:"response"`
}

type StreamResponse struct {
    StreamURL string `json:"streamUrl"`
}

func main() {
    apiKey := os.Getenv("CLAUDE_API_KEY")
    
    // 1. Create session
    sessionReq := SessionRequest{
        Model:          "claude-3-opus-20240229",
        PermissionMode: "default",
        MaxTurns:       10,
    }
    
    sessionData, _ := json.Marshal(sessionReq)
    req, _ := http.NewRequest("POST", API_BASE+"/sessions", bytes.NewBuffer(sessionData))
    req.Header.Set("Content-Type", "application/json")
    req.Header.Set("x-api-key", apiKey)
    
    client := &http.Client{}
    resp, _ := client.Do(req)
    defer resp.Body.Close()
    
    var sessionResp SessionResponse
    json.NewDecoder(resp.Body).Decode(&sessionResp)
    fmt.Printf("Session created: %s\n", sessionResp.SessionID)
    
    // 2. Send message
    messageReq := MessageRequest{
        Prompt: "Hello! What can you help me with?",
        Stream: false,
    }
    
    messageData, _ := json.Marshal(messageReq)
    req, _ = http.NewRequest("POST", API_BASE+"/sessions/"+sessionResp.SessionID+"/messages", 
        bytes.NewBuffer(messageData))
    req.Header.Set("Content-Type", "application/json")
    req.Header.Set("x-api-key", apiKey)
    
    resp, _ = client.Do(req)
    defer resp.Body.Close()
    
    var messageResp MessageResponse
    json.NewDecoder(resp.Body).Decode(&messageResp)
    fmt.Printf("Response: %s\n", messageResp.Response)
}
