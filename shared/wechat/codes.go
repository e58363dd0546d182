package wechat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/silenceper/wechat/v2/miniprogram/qrcode"
	"github.com/silenceper/wechat/v2/officialaccount/basic"
	oacontext "github.com/silenceper/wechat/v2/officialaccount/context"
	"github.com/silenceper/wechat/v2/util"

	"github.com/wemember/wemember/shared/errs"
)

// MaxCodeScene is the longest scene of a mini-program code, in characters.
const MaxCodeScene = 32

// MaxQRScene is the longest scene string of an Official Account QR code, in
// bytes.
const MaxQRScene = 64

// MaxQRExpire is the longest life of a temporary Official Account QR code.
const MaxQRExpire = 30 * 24 * time.Hour

// wxacodeURL is wxacode.getUnlimited. silenceper's GetWXACodeUnlimit is not
// used: it posts past the URI modifier (so it cannot reach a simulator) and
// refuses any answer whose Content-Type is not exactly image/jpeg.
const wxacodeURL = APIBase + "/wxa/getwxacodeunlimit?access_token=%s"

// validCodeScene reports whether scene is 1–32 of the characters
// wxacode.getUnlimited takes: digits, ASCII letters and !#$&'()*+,/:;=?@-._~.
func validCodeScene(scene string) bool {
	if scene == "" || len(scene) > MaxCodeScene {
		return false
	}
	for _, r := range scene {
		ok := r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' ||
			strings.ContainsRune("!#$&'()*+,/:;=?@-._~", r)
		if !ok {
			return false
		}
	}
	return true
}

// UnlimitedCode draws the mini-program code (wxacode.getUnlimited) that opens
// page (e.g. "pages/invite/index", "" for the home page) with scene as its
// launch query, width pixels wide (0: WeChat's 430; WeChat brings other
// values inside 280–1280), and returns the image bytes (PNG; JPEG if WeChat
// ever sends one). The page must be part of the released mini-program.
// A 40001/42001 answer makes the token source refresh the token and the
// call is tried once more. Errors: errs.Invalid for a scene that is empty,
// longer than 32 or has other characters (refused before calling WeChat), a
// malformed or unreleased page (41030) or other invalid arguments,
// errs.RateLimited for quotas, errs.Transient when WeChat is unreachable,
// busy or answers neither an image nor its JSON, errs.Internal otherwise.
func (c *MiniProgram) UnlimitedCode(ctx context.Context, scene, page string, width int) ([]byte, error) {
	const op = "wechat.UnlimitedCode"
	if !validCodeScene(scene) {
		return nil, errs.E(op, errs.Invalid, "invalid mini-program code scene")
	}
	if strings.HasPrefix(page, "/") || strings.ContainsAny(page, "?#") {
		return nil, errs.E(op, errs.Invalid, "mini-program page must be a plain path without a leading / or a query")
	}
	if width < 0 {
		return nil, errs.E(op, errs.Invalid, "negative mini-program code width")
	}
	var img []byte
	err := callAPI(ctx, op, "getwxacodeunlimit", c.tokens, func(h *boundTokens) error {
		tok, err := h.GetAccessToken()
		if err != nil {
			return err
		}
		body, err := util.PostJSONContext(ctx, fmt.Sprintf(wxacodeURL, url.QueryEscape(tok)),
			qrcode.QRCoder{Scene: scene, Page: page, Width: width})
		if err != nil {
			return err
		}
		if e := errorAnswer("getwxacodeunlimit", body); e != nil {
			return e
		}
		img = body
		return nil
	})
	if err != nil {
		return nil, classify(op, err, wxacodeError)
	}
	if !isImage(img) {
		return nil, errs.E(op, errs.Transient, "WeChat gave an unreadable answer, retry later",
			fmt.Errorf("getwxacodeunlimit answered %d bytes of %s", len(img), http.DetectContentType(img)))
	}
	return img, nil
}

// errorAnswer reads an answer that should be an image: a JSON body is
// WeChat's errcode answer (an *apiError, or one of errcode 0 that is no
// image either), anything else nil.
func errorAnswer(api string, body []byte) error {
	if len(body) == 0 || body[0] != '{' {
		return nil
	}
	var ce util.CommonError
	if err := json.Unmarshal(body, &ce); err != nil {
		return err // undecodable: Transient.
	}
	if ce.ErrCode == 0 {
		// Neither an image nor an error: undecodable, so Transient.
		return fmt.Errorf("%s: cannot unmarshal a JSON answer without errcode into an image", api)
	}
	return &apiError{API: api, ErrCode: ce.ErrCode, ErrMsg: ce.ErrMsg}
}

// isImage reports whether b is a PNG or JPEG image.
func isImage(b []byte) bool {
	switch http.DetectContentType(b) {
	case "image/png", "image/jpeg":
		return true
	}
	return false
}

// SceneQR is an Official Account QR code with a scene string: following the
// account by scanning it brings the scene in the subscribe event.
type SceneQR struct {
	Ticket string        // Exchanged for the image with QRImage.
	URL    string        // The address the code holds; any QR of it works the same.
	Expire time.Duration // The code's life from its creation; 0 for a permanent code.
}

// SceneQR creates an Official Account QR code carrying scene (1–64 bytes):
// a temporary code (QR_STR_SCENE) living expire (a whole number of seconds,
// at most 30 days), or for expire 0 a permanent one (QR_LIMIT_STR_SCENE, of
// which an account has at most 100,000). A 40001/42001 answer makes the
// token source refresh the token and the call is tried once more. Errors:
// errs.Invalid for a scene or expire out of range (refused before calling
// WeChat) or a scene WeChat refuses, errs.RateLimited for quotas,
// errs.Transient when WeChat is unreachable, busy or slower than ctx,
// errs.Internal otherwise.
func (c *OfficialAccount) SceneQR(ctx context.Context, scene string, expire time.Duration) (SceneQR, error) {
	const op = "wechat.SceneQR"
	switch {
	case scene == "" || len(scene) > MaxQRScene:
		return SceneQR{}, errs.E(op, errs.Invalid, "QR code scene must be 1 to 64 bytes")
	case expire < 0 || expire > MaxQRExpire || expire%time.Second != 0:
		return SceneQR{}, errs.E(op, errs.Invalid, "QR code life must be whole seconds up to 30 days")
	}
	req := basic.NewLimitQrRequest(scene)
	if expire > 0 {
		req = basic.NewTmpQrRequest(expire, scene)
	}
	var t *basic.Ticket
	err := callAPI(ctx, op, "qrcode/create", c.tokens, func(h *boundTokens) error {
		res, err := basic.NewBasic(&oacontext.Context{Config: c.cfg, AccessTokenHandle: h}).GetQRTicket(req)
		if res != nil && res.ErrCode != 0 {
			// silenceper reports the errcode in a plain error.
			return &apiError{API: "qrcode/create", ErrCode: res.ErrCode, ErrMsg: res.ErrMsg}
		}
		t = res
		return err
	})
	if err != nil {
		return SceneQR{}, classify(op, err, qrCreateError)
	}
	if t == nil || t.Ticket == "" || t.URL == "" {
		return SceneQR{}, errs.E(op, errs.Internal, errors.New("qrcode/create answered without a ticket or url"))
	}
	return SceneQR{Ticket: t.Ticket, URL: t.URL, Expire: time.Duration(t.ExpireSeconds) * time.Second}, nil
}

// QRImage fetches the image of an Official Account QR code from its ticket
// (mp.weixin.qq.com/cgi-bin/showqrcode, no access token). Errors:
// errs.Invalid for an empty ticket, errs.NotExist for a ticket WeChat does
// not know or that has expired (404), errs.Transient when WeChat is
// unreachable, unavailable, slower than ctx or answers no image,
// errs.Internal otherwise.
func (c *OfficialAccount) QRImage(ctx context.Context, ticket string) ([]byte, error) {
	const op = "wechat.QRImage"
	if ticket == "" {
		return nil, errs.E(op, errs.Invalid, "missing QR ticket")
	}
	img, err := util.HTTPGetContext(ctx, basic.ShowQRCode(&basic.Ticket{Ticket: url.QueryEscape(ticket)}))
	if err != nil {
		if ctx.Err() != nil {
			return nil, errs.E(op, errs.Transient, "WeChat did not answer in time", ctx.Err())
		}
		// silenceper's message quotes the URL; only the status is kept.
		if strings.HasPrefix(err.Error(), "http get error") && strings.HasSuffix(err.Error(), "statusCode=404") {
			return nil, errs.E(op, errs.NotExist, "unknown or expired QR code", errors.New("showqrcode: HTTP status 404"))
		}
		return nil, transport(op, err)
	}
	if !isImage(img) {
		return nil, errs.E(op, errs.Transient, "WeChat gave an unreadable answer, retry later",
			fmt.Errorf("showqrcode answered %d bytes of %s", len(img), http.DetectContentType(img)))
	}
	return img, nil
}
