package wxoa

import (
	"encoding/xml"
	"unicode/utf8"

	"github.com/wemember/wemember/shared/errs"
)

// Success is the body that acknowledges a push without a passive reply;
// WeChat then neither retries nor shows "service unavailable". An empty body
// does the same.
const Success = "success"

// MaxReplyText is the longest passive text reply WeChat accepts, in bytes.
const MaxReplyText = 2048

// cdata marshals as a CDATA section, as WeChat's own replies do.
type cdata struct {
	Text string `xml:",cdata"`
}

// textReply is the XML of a passive text reply.
type textReply struct {
	XMLName      xml.Name `xml:"xml"`
	ToUserName   cdata    `xml:"ToUserName"`
	FromUserName cdata    `xml:"FromUserName"`
	CreateTime   int64    `xml:"CreateTime"`
	MsgType      cdata    `xml:"MsgType"`
	Content      cdata    `xml:"Content"`
}

// ReplyText builds the passive text reply to m: ToUserName and FromUserName
// swapped, CreateTime from the clock, MsgType text. If m came encrypted the
// reply is sealed (Encrypt, MsgSignature, TimeStamp, Nonce); otherwise it is
// the plain XML. Empty content, content over MaxReplyText bytes or invalid
// UTF-8 is errs.Invalid. Serve the result as application/xml.
func (s *Server) ReplyText(m *Message, content string) ([]byte, error) {
	const op = "wxoa.ReplyText"
	if content == "" || len(content) > MaxReplyText || !utf8.ValidString(content) {
		return nil, errs.E(op, errs.Invalid, "reply text is empty, too long or not UTF-8")
	}
	now := s.now()
	plain, err := xml.Marshal(textReply{
		ToUserName:   cdata{m.FromUserName},
		FromUserName: cdata{m.ToUserName},
		CreateTime:   now.Unix(),
		MsgType:      cdata{TypeText},
		Content:      cdata{content},
	})
	if err != nil {
		return nil, errs.E(op, errs.Internal, err)
	}
	if !m.Encrypted {
		return plain, nil
	}
	out, err := s.codec.Seal(plain, now, s.rand)
	if err != nil {
		return nil, errs.E(op, err)
	}
	return out, nil
}
