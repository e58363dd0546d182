// Command wxpush plays WeChat pushing a callback at a running function, with
// the platform's signing, encryption and retries:
//
//	go run ./tests/wxsim/cmd/wxpush oa-scan --url http://127.0.0.1:8080/oa-callback --openid o-alice --scene 123
//	go run ./tests/wxsim/cmd/wxpush wecom-add --url http://127.0.0.1:8080/wecom-callback --state inv:K7Q2
//
// Commands: oa-verify, oa-subscribe, oa-scan, oa-unsubscribe, oa-text,
// wecom-verify, wecom-add, wecom-del. The token, keys and ids default to the
// local runner's configuration.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/wemember/wemember/tests/wxsim/push"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "wxpush:", err)
		os.Exit(1)
	}
}

const usage = `usage: wxpush <command> [flags]
commands: oa-verify oa-subscribe oa-scan oa-unsubscribe oa-text wecom-verify wecom-add wecom-del
run "wxpush <command> -h" for the flags`

// run parses args, builds the push, sends it and prints every try to out.
func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return errors.New(usage)
	}
	cmd := args[0]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(out)
	target := fs.String("url", "", "callback URL (required)")
	copies := fs.Int("copies", 1, "send this many overlapping copies at once")
	tries := fs.Int("tries", push.DefaultTries, "tries per copy")
	timeout := fs.Duration("timeout", push.DefaultTimeout, "wait per try")

	oa := push.DefaultOA()
	mode := fs.String("mode", "safe", "Official Account encryption mode: safe, compat, plain")
	fs.StringVar(&oa.Token, "token", oa.Token, "Official Account token")
	fs.StringVar(&oa.AppID, "appid", oa.AppID, "Official Account appid")
	fs.StringVar(&oa.EncodingAESKey, "aes-key", oa.EncodingAESKey, "Official Account EncodingAESKey")
	fs.StringVar(&oa.OriginalID, "original-id", oa.OriginalID, "Official Account original id (ToUserName)")
	openid := fs.String("openid", "o-wxpush-0001", "follower openid")
	scene := fs.String("scene", "", "QR scene (oa-subscribe, oa-scan)")
	content := fs.String("content", "会员", "text (oa-text)")
	msgID := fs.Int64("msgid", 0, "MsgId (oa-text); the clock in nanoseconds if 0")
	echostr := fs.String("echostr", "", "echostr (oa-verify, wecom-verify); random digits if empty")

	wc := push.DefaultWeCom()
	fs.StringVar(&wc.Token, "wecom-token", wc.Token, "WeCom callback token")
	fs.StringVar(&wc.CorpID, "corpid", wc.CorpID, "WeCom corp id (ReceiveId)")
	fs.StringVar(&wc.EncodingAESKey, "wecom-aes-key", wc.EncodingAESKey, "WeCom EncodingAESKey")
	user := fs.String("user", "zhangsan", "staff UserID (wecom-*)")
	external := fs.String("external", "wmwxpush0000000000000000000001", "customer ExternalUserID (wecom-*)")
	state := fs.String("state", "", "contact way state (wecom-add)")
	welcome := fs.String("welcome-code", "", "welcome_code (wecom-add), e.g. from `wxsim contact`; WELCOMECODE-<external> if empty")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *target == "" {
		return errors.New("--url is required")
	}
	m, err := push.ParseMode(*mode)
	if err != nil {
		return err
	}
	oa.Mode = m
	now := time.Now()
	if *echostr == "" {
		*echostr = fmt.Sprint(now.UnixNano())
	}
	if *msgID == 0 {
		*msgID = now.UnixNano()
	}

	var p *push.Push
	var open func([]byte) ([]byte, error)
	switch cmd {
	case "oa-verify":
		p, err = oa.VerifyURL(*target, *echostr)
	case "oa-subscribe":
		p, err = oa.Build(*target, push.OASubscribe(*openid, *scene))
	case "oa-scan":
		if *scene == "" {
			return errors.New("oa-scan needs --scene")
		}
		p, err = oa.Build(*target, push.OAScan(*openid, *scene))
	case "oa-unsubscribe":
		p, err = oa.Build(*target, push.OAUnsubscribe(*openid))
	case "oa-text":
		p, err = oa.Build(*target, push.OAText(*openid, *content, *msgID))
	case "wecom-verify":
		p, err = wc.VerifyURL(*target, []byte(*echostr))
	case "wecom-add":
		ev := push.WeComAdd(*user, *external, *state)
		if *welcome != "" {
			ev.WelcomeCode = *welcome
		}
		p, err = wc.Build(*target, ev)
	case "wecom-del":
		p, err = wc.Build(*target, push.WeComDelFollow(*user, *external))
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
	if err != nil {
		return err
	}
	if strings.HasPrefix(cmd, "oa-") && oa.Mode != push.Plain {
		open = oa.OpenReply
	} else if strings.HasPrefix(cmd, "wecom-") {
		open = wc.OpenReply
	}
	fmt.Fprintf(out, "%s %s\n", p.Method, p.URL)
	if len(p.Body) > 0 {
		fmt.Fprintf(out, "body: %s\n", p.Body)
	}
	s := push.Sender{Tries: *tries, Timeout: *timeout}
	return report(out, s.SendCopies(ctx, p, max(*copies, 1)), open)
}

// report prints each copy's tries and fails if any copy was not delivered.
func report(out io.Writer, results []push.Result, open func([]byte) ([]byte, error)) error {
	failed := 0
	for i, r := range results {
		for j, a := range r.Attempts {
			fmt.Fprintf(out, "copy %d try %d: status %d in %v", i+1, j+1, a.Status, a.Took.Round(time.Millisecond))
			if a.Err != nil {
				fmt.Fprintf(out, " error: %v", a.Err)
			}
			fmt.Fprintf(out, "\n  answer: %q\n", a.Body)
			if open != nil && strings.Contains(string(a.Body), "<Encrypt>") {
				if plain, err := open(a.Body); err != nil {
					fmt.Fprintf(out, "  reply does not open: %v\n", err)
				} else {
					fmt.Fprintf(out, "  reply (decrypted): %s\n", plain)
				}
			}
		}
		if !r.OK() {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d copies not delivered", failed, len(results))
	}
	return nil
}
