package play

import "errors"

// Problem is an error as a player reads it: Say is one plain sentence
// ("no room 4QXE on 10.77.0.1:7700"), Err the technical cause behind it
// (shown on request), which may be nil.
type Problem struct {
	Say string
	Err error
}

func (p *Problem) Error() string {
	if p.Err == nil {
		return p.Say
	}
	return p.Say + ": " + p.Err.Error()
}

func (p *Problem) Unwrap() error { return p.Err }

// Explain splits err into what a player reads and the detail behind it:
// a *Problem's Say and cause, or, for any other error, its text and no
// detail.
func Explain(err error) (say, detail string) {
	var p *Problem
	if errors.As(err, &p) {
		if p.Err != nil {
			detail = p.Err.Error()
		}
		return p.Say, detail
	}
	return err.Error(), ""
}
