package fake

import (
	"fmt"
	"strings"
	"time"
)

// JobPlan says how the fake's jobs go: how many polls answer queued, then
// running, and how they end.
type JobPlan struct {
	Queued      int    // polls answered queued
	Running     int    // polls answered running, after those
	Failure     string // the reason the job fails; "" means it succeeds
	FailureCode string // Runway's failureCode; fal's error type (an infrastructure failure instead of a 422)
	// SlowerThanWait: the job is still running when a Replicate "Prefer: wait" create returns.
	SlowerThanWait bool
	// Video is what a video job produces; nil means DefaultVideo.
	Video *Video
}

func (p JobPlan) video() Video {
	if p.Video != nil {
		return *p.Video
	}
	return DefaultVideo
}

// Forever is a number of polls no test reaches: a job planned Running:
// Forever runs until it is cancelled.
const Forever = 1 << 30

// DefaultPlan walks queued → running → succeeded on three successive polls.
var DefaultPlan = JobPlan{Queued: 1, Running: 1}

// PlanJobs sets the plan of the jobs created from now on.
func (s *Server) PlanJobs(p JobPlan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.plan = p
}

// PlanPrompt sets the plan of the jobs created from now on whose prompt
// (prompt, or Runway's promptText) is prompt, whatever PlanJobs says: tests
// sharing a fake script their own jobs.
func (s *Server) PlanPrompt(prompt string, p JobPlan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.prompts == nil {
		s.prompts = map[string]JobPlan{}
	}
	s.prompts[prompt] = p
}

type stage int

const (
	queued stage = iota
	running
	succeeded
	failed
	cancelled
)

func (st stage) done() bool { return st >= succeeded }

// job is a provider job: a prediction, a task, a generation, a queued request.
type job struct {
	id        string
	model     string
	input     map[string]any
	plan      JobPlan
	polls     int
	cancelled bool
	created   time.Time
}

func (j *job) stage() stage {
	switch {
	case j.cancelled:
		return cancelled
	case j.polls <= j.plan.Queued:
		return queued
	case j.polls <= j.plan.Queued+j.plan.Running:
		return running
	case j.plan.Failure != "":
		return failed
	}
	return succeeded
}

// video tells the fake's output kind from the model: video models have "video"
// in their name.
func (j *job) video() bool { return strings.Contains(j.model, "video") }

// output is the URL of the job's media on the fake.
func (s *Server) output(j *job) string {
	if j.video() {
		return s.FileURL(j.id + ".mp4")
	}
	return s.FileURL(j.id + ".png")
}

// newJob creates a job under the current plan. The id looks like a UUID so
// that it passes for Runway's and Luma's.
func (s *Server) newJob(model string, input map[string]any) *job {
	s.mu.Lock()
	defer s.mu.Unlock()
	plan := s.plan
	for _, k := range []string{"prompt", "promptText"} {
		if p, ok := s.prompts[str(input[k])]; ok && str(input[k]) != "" {
			plan = p
		}
	}
	j := &job{id: fmt.Sprintf("00000000-0000-4000-8000-%012d", len(s.jobs)+1), model: model, input: input, plan: plan, created: time.Now().UTC()}
	s.jobs[j.id] = j
	return j
}

// poll counts one status request and returns the job's stage after it.
func (s *Server) poll(id string) (*job, stage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok {
		return nil, 0, false
	}
	if !j.stage().done() {
		j.polls++
	}
	return j, j.stage(), true
}

// peek returns the job's stage without counting a poll.
func (s *Server) peek(id string) (*job, stage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok {
		return nil, 0, false
	}
	return j, j.stage(), true
}

// finish runs the job to its end at once (a create that waited).
func (s *Server) finish(j *job) stage {
	s.mu.Lock()
	defer s.mu.Unlock()
	j.polls = j.plan.Queued + j.plan.Running + 1
	return j.stage()
}

// cancel stops a job that has not finished; ok is false when it has.
func (s *Server) cancel(j *job) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if j.stage().done() {
		return false
	}
	j.cancelled = true
	return true
}
