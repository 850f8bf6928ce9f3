// Incremental, sans-IO WebSocket frame parser (RFC 6455 sections 5 and 8).
//
// Bytes go in through consume() in whatever pieces the transport read them; events come out
// through a sink that is a template parameter, so the hot path (a whole small frame in the
// buffer) is one header decode, an in-place unmask, a UTF-8 check and two inlined sink
// calls: no allocation, no virtual call, no copy.
//
// Memory: payload bytes are never copied. Data payloads are delivered as spans into the
// caller's buffer as they arrive, so a message of any size streams through in bounded
// memory; only a partial frame header (up to 14 bytes) and a split control frame payload
// (up to 125 bytes) are kept inside the parser between calls.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <string_view>

#include "aerie/protocol/close_code.hpp"
#include "aerie/protocol/error.hpp"
#include "aerie/protocol/frame_header.hpp"
#include "aerie/protocol/mask.hpp"
#include "aerie/protocol/opcode.hpp"
#include "aerie/protocol/role.hpp"
#include "aerie/protocol/transform.hpp"
#include "aerie/protocol/utf8.hpp"

namespace aerie::protocol {

struct ParserOptions {
  // (The 64-bit limits come first: with the one-byte fields after them the struct is 24
  // bytes, not 32, in every connection's parser.)
  /// Largest accepted data frame payload, checked from the header before the payload
  /// arrives (1009). 0 = unlimited. Control frames are capped at 125 bytes by the RFC. A
  /// frame of a transformed (compressed) message may exceed it by deflate's block overhead
  /// (1/32 + 1 KiB).
  std::uint64_t maxFrameSize = 0;
  /// Largest accepted message (1009): the sum of its frames' payload lengths, checked when
  /// each frame header arrives; for a message a transform decodes, the transform's output,
  /// checked as it is produced. 0 = unlimited.
  std::uint64_t maxMessageSize = 0;
  /// Role::Server: incoming (client) frames MUST be masked; Role::Client: MUST NOT be.
  Role role = Role::Server;
  /// Validate text messages as UTF-8 (1007). Close reasons are always validated.
  bool validateUtf8 = true;
  /// Reject binary messages (1003).
  bool textOnly = false;
  /// RSV1 may be set on a message's first frame: permessage-deflate was negotiated.
  bool rsv1Allowed = false;
};

struct ParseResult {
  /// Bytes of the input the parser is done with. Equal to the input size unless a close
  /// frame ended the stream (then it stops right after the close frame) or an error occurred
  /// (then it is where the error was found, for diagnostics only).
  std::size_t consumed = 0;
  ProtocolError error;  // set when the connection must be failed with error.closeCode
};

/// What a Parser delivers its events to. All spans and string_views point into the caller's
/// buffer (or the parser's small control buffer) and are valid only during the call: the
/// caller reuses its receive buffer once consume() returns, so the sink copies what it keeps.
/// Callbacks must not throw (consume() is noexcept) and must not call consume() re-entrantly.
///
///   void onMessageBegin(Opcode op, bool compressed)
///       Once per message, when its first frame header arrives. op is Text or Binary;
///       compressed = RSV1 was set on the first frame (with a transform set, the data
///       delivered is already the transform's output).
///   void onMessageData(std::span<const char> chunk, bool fin)
///       Payload bytes as they arrive: unmasked, transformed when applicable, UTF-8-checked
///       for text. fin is true exactly once per message, on its last chunk, which may be
///       empty (an empty message gives exactly one empty chunk with fin = true). Other chunks
///       are never empty.
///   void onPing(std::span<const char> payload)   // whole control payload, <= 125 bytes
///   void onPong(std::span<const char> payload)
///   void onClose(std::uint16_t code, std::string_view reason)
///       Already validated; code is 1005 for an empty payload. The parser stops after it.
///
/// Nothing is delivered after an error, and a chunk holding an invalid byte (or a transform
/// write() that breaks a limit) is not delivered at all; the sink may have seen a message's
/// begin and its valid prefix before the error.
template <class S>
concept ParserSink = requires(S& sink, Opcode op, bool flag, std::span<const char> bytes,
                              std::uint16_t code, std::string_view reason) {
  sink.onMessageBegin(op, flag);
  sink.onMessageData(bytes, flag);
  sink.onPing(bytes);
  sink.onPong(bytes);
  sink.onClose(code, reason);
};

template <ParserSink Sink>
class Parser {
 public:
  Parser(Sink& sink, ParserOptions options) noexcept : sink_(sink), options_(options) {}

  // The transform output adapter points back at the parser: it cannot move.
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  /// Parses the next `size` bytes. Masked payloads are unmasked IN PLACE in `data`. Errors
  /// are sticky: once failed, every later call returns {0, the same error}. After a close
  /// frame every later call returns {0, no error}: data after a close frame is ignored.
  /// With a `frameBudget`, parsing stops once that many frames were completed in this call
  /// (consumed < size, right after the last one): a rate limit then holds within one read.
  ParseResult consume(char* data, std::size_t size,
                      std::uint64_t frameBudget = UINT64_MAX) noexcept;

  /// The inbound transform (e.g. inflate) applied to messages whose first frame has RSV1.
  /// Without one, such messages are delivered as they are on the wire (not UTF-8-checked,
  /// maxMessageSize counting wire bytes). Set it between messages (it is sampled when a
  /// message begins); nullptr removes it. The parser does not own it.
  void setTransform(PayloadTransform* transform) noexcept { transform_ = transform; }

  /// Complete frames (data and control) parsed so far.
  std::uint64_t framesParsed() const noexcept { return framesParsed_; }
  /// Complete data messages delivered so far.
  std::uint64_t messagesParsed() const noexcept { return messagesParsed_; }
  /// A data message has begun and its last frame has not been completed.
  bool inMessage() const noexcept { return inMessage_; }
  bool hasError() const noexcept { return state_ == State::Failed; }
  ProtocolError error() const noexcept { return error_; }
  /// A valid close frame was delivered.
  bool closed() const noexcept { return state_ == State::Closed; }
  /// Between frames, outside any message, neither failed nor closed: the parser holds
  /// nothing but its options and counters, so a new one would carry on exactly as this
  /// one (a server drops an idle client's parser and makes a new one at its next read).
  bool atRest() const noexcept { return state_ == State::Header && headerLen_ == 0 && !inMessage_; }
  const ParserOptions& options() const noexcept { return options_; }

 private:
  enum class State : std::uint8_t { Header, Payload, Closed, Failed };

  static constexpr std::size_t kMaxControlPayload = 125;

  // Receives a transform's output and runs it through the size limit and UTF-8 check.
  class TransformSink final : public TransformOutput {
   public:
    explicit TransformSink(Parser& parser) noexcept : parser_(parser) {}
    ProtocolError write(std::span<const char> data) override {
      return parser_.writeTransformed(data);
    }

   private:
    Parser& parser_;
  };

  ParseResult fail(std::size_t consumed, ProtocolError error) noexcept {
    state_ = State::Failed;
    error_ = error;
    return {consumed, error};
  }

  ProtocolError beginFrame() noexcept;
  ProtocolError onPayload(char* data, std::size_t size) noexcept;
  ProtocolError deliverControl(const char* data, std::size_t size) noexcept;
  ProtocolError writeTransformed(std::span<const char> data) noexcept;

  // Ordered by size, so that the parser every connection holds has no padding holes.
  Sink& sink_;
  ParserOptions options_;
  PayloadTransform* transform_ = nullptr;
  TransformSink transformSink_{*this};
  // The failure once state_ is Failed; before that, an error a transform's write() met
  // (cleared at each message's start): one field for both, as they never overlap.
  ProtocolError error_;

  // Current frame.
  FrameHeader frame_;
  std::uint64_t remaining_ = 0;  // payload bytes of the current frame still to come

  // Current data message.
  std::uint64_t messageLength_ = 0;  // counted against maxMessageSize

  std::uint64_t framesParsed_ = 0;
  std::uint64_t messagesParsed_ = 0;

  // A control frame split over several reads is gathered here: allocated the first time
  // that happens (rarely), not held by every idle connection (125 bytes each).
  std::unique_ptr<char[]> control_;

  Utf8Validator utf8_;  // of the current data message
  State state_ = State::Header;
  std::uint8_t maskOffset_ = 0;  // where the mask key stands in the current frame (0-3)
  std::uint8_t headerLen_ = 0;
  std::uint8_t controlLen_ = 0;
  bool inMessage_ = false;
  bool messageCompressed_ = false;
  bool messageTransformed_ = false;  // compressed and a transform was set at its start
  bool validateText_ = false;
  char header_[kMaxFrameHeaderSize];
};

template <ParserSink Sink>
ParseResult Parser<Sink>::consume(char* data, std::size_t size,
                                  std::uint64_t frameBudget) noexcept {
  if (state_ == State::Failed) return {0, error_};
  if (state_ == State::Closed) return {0, {}};

  const std::uint64_t budgetEnd =
      frameBudget > UINT64_MAX - framesParsed_ ? UINT64_MAX : framesParsed_ + frameBudget;
  std::size_t pos = 0;
  while (pos < size) {
    if (framesParsed_ >= budgetEnd) return {pos, {}};  // (between frames: state_ is Header)
    if (state_ == State::Header) {
      DecodeResult decoded;
      std::size_t headerBytes = 0;  // bytes of `data` the header occupies
      if (headerLen_ == 0) {
        // Hot path: the header is read straight from the caller's buffer.
        decoded = decodeFrameHeader(data + pos, size - pos, frame_);
        if (decoded.status == DecodeStatus::NeedMore) {
          headerLen_ = static_cast<std::uint8_t>(size - pos);  // < kMaxFrameHeaderSize
          std::memcpy(header_, data + pos, headerLen_);
          return {size, {}};
        }
        headerBytes = decoded.headerSize;
      } else {
        const std::size_t take = std::min(kMaxFrameHeaderSize - headerLen_, size - pos);
        std::memcpy(header_ + headerLen_, data + pos, take);
        decoded = decodeFrameHeader(header_, headerLen_ + take, frame_);
        if (decoded.status == DecodeStatus::NeedMore) {
          headerLen_ = static_cast<std::uint8_t>(headerLen_ + take);
          return {size, {}};
        }
        // headerLen_ bytes alone were not enough, so the header ends inside `data`.
        headerBytes = decoded.headerSize - headerLen_;
        headerLen_ = 0;
      }
      if (decoded.status == DecodeStatus::Error) return fail(pos, decoded.error);
      pos += headerBytes;
      if (const ProtocolError error = beginFrame()) return fail(pos, error);
      if (remaining_ != 0) continue;
      // An empty payload completes the frame now, even when the header ends the input.
      if (const ProtocolError error = onPayload(data + pos, 0)) return fail(pos, error);
    } else {
      const auto size64 = static_cast<std::uint64_t>(size - pos);
      const auto n = static_cast<std::size_t>(std::min(remaining_, size64));
      if (const ProtocolError error = onPayload(data + pos, n)) return fail(pos, error);
      pos += n;
    }
    if (state_ == State::Closed) return {pos, {}};
  }
  return {pos, {}};
}

template <ParserSink Sink>
ProtocolError Parser<Sink>::beginFrame() noexcept {
  const FrameHeader& h = frame_;
  if (h.rsv2 || h.rsv3) return {close_code::ProtocolError, "reserved bit RSV2/RSV3 set"};
  if (!isKnownOpcode(static_cast<std::uint8_t>(h.opcode))) {
    return {close_code::ProtocolError, "reserved opcode"};
  }
  if (options_.role == Role::Server && !h.masked) {
    return {close_code::ProtocolError, "unmasked frame from a client"};
  }
  if (options_.role == Role::Client && h.masked) {
    return {close_code::ProtocolError, "masked frame from a server"};
  }

  if (isControl(h.opcode)) {
    if (!h.fin) return {close_code::ProtocolError, "fragmented control frame"};
    if (h.payloadLength > kMaxControlPayload) {
      return {close_code::ProtocolError, "control frame payload over 125 bytes"};
    }
    if (h.rsv1) return {close_code::ProtocolError, "RSV1 set on a control frame"};
    controlLen_ = 0;
  } else {
    const bool continuation = h.opcode == Opcode::Continuation;
    if (h.rsv1 && !options_.rsv1Allowed) {
      return {close_code::ProtocolError, "RSV1 set without a negotiated extension"};
    }
    if (continuation) {
      if (!inMessage_) return {close_code::ProtocolError, "continuation frame outside a message"};
      if (h.rsv1) return {close_code::ProtocolError, "RSV1 set on a continuation frame"};
    } else {
      if (inMessage_) {
        return {close_code::ProtocolError, "new message inside a fragmented message"};
      }
      if (h.opcode == Opcode::Binary && options_.textOnly) {
        return {close_code::UnsupportedData, "binary messages are not accepted"};
      }
    }
    const bool transformed = continuation ? messageTransformed_ : h.rsv1 && transform_ != nullptr;
    // A compressed frame may be larger than what it inflates to: incompressible data costs
    // deflate 5 bytes per block, and a block holds as few as 256 bytes with a small zlib
    // memLevel (Python's websockets uses 5: 2 KiB blocks). Allow 1/32 + 1 KiB, so a message
    // of maxFrameSize bytes passes whether or not the peer compressed it.
    const std::uint64_t frameLimit = transformed
                                         ? options_.maxFrameSize + options_.maxFrameSize / 32 + 1024
                                         : options_.maxFrameSize;
    if (options_.maxFrameSize != 0 && h.payloadLength > frameLimit) {
      return {close_code::MessageTooBig, "frame too big"};
    }
    const std::uint64_t before = continuation ? messageLength_ : 0;
    std::uint64_t length = before;
    if (!transformed) {  // a transformed message is measured on the transform's output
      if (options_.maxMessageSize != 0 && h.payloadLength > options_.maxMessageSize - before) {
        return {close_code::MessageTooBig, "message too big"};
      }
      length += h.payloadLength;
    }
    messageLength_ = length;
    if (!continuation) {
      inMessage_ = true;
      messageCompressed_ = h.rsv1;
      messageTransformed_ = transformed;
      validateText_ =
          h.opcode == Opcode::Text && options_.validateUtf8 && (transformed || !messageCompressed_);
      utf8_.reset();
      error_ = {};
      sink_.onMessageBegin(h.opcode, h.rsv1);
    }
  }
  remaining_ = h.payloadLength;
  maskOffset_ = 0;
  state_ = State::Payload;
  return {};
}

template <ParserSink Sink>
ProtocolError Parser<Sink>::onPayload(char* data, std::size_t size) noexcept {
  if (frame_.masked && size != 0) {
    maskOffset_ = static_cast<std::uint8_t>(applyMask(data, size, frame_.maskKey, maskOffset_));
  }
  remaining_ -= size;
  const bool frameDone = remaining_ == 0;

  if (isControl(frame_.opcode)) {
    if (frameDone && controlLen_ == 0) return deliverControl(data, size);  // whole: no copy
    if (!control_) {
      control_.reset(new (std::nothrow) char[kMaxControlPayload]);
      if (!control_) return {close_code::InternalError, "out of memory for a control frame"};
    }
    std::memcpy(control_.get() + controlLen_, data, size);
    controlLen_ = static_cast<std::uint8_t>(controlLen_ + size);
    return frameDone ? deliverControl(control_.get(), controlLen_) : ProtocolError{};
  }

  const bool fin = frameDone && frame_.fin;
  if (messageTransformed_) {
    if (size != 0 || fin) {
      ProtocolError error = transform_->transform({data, size}, fin, transformSink_);
      if (!error) error = error_;  // in case the transform ignored write()'s error
      if (error) return error;
    }
    if (fin) {
      if (validateText_ && !utf8_.isComplete()) {
        return {close_code::InvalidPayload, "text message ends inside a UTF-8 sequence"};
      }
      sink_.onMessageData({}, true);
    }
  } else {
    if (validateText_) {
      if (!utf8_.feed(data, size)) {
        return {close_code::InvalidPayload, "invalid UTF-8 in a text message"};
      }
      if (fin && !utf8_.isComplete()) {
        return {close_code::InvalidPayload, "text message ends inside a UTF-8 sequence"};
      }
    }
    if (size != 0 || fin) sink_.onMessageData({data, size}, fin);
  }

  if (frameDone) {
    ++framesParsed_;
    state_ = State::Header;
    if (fin) {
      inMessage_ = false;
      ++messagesParsed_;
    }
  }
  return {};
}

template <ParserSink Sink>
ProtocolError Parser<Sink>::deliverControl(const char* data, std::size_t size) noexcept {
  const std::span<const char> payload{data, size};
  switch (frame_.opcode) {
    case Opcode::Ping:
      ++framesParsed_;
      state_ = State::Header;
      sink_.onPing(payload);
      return {};
    case Opcode::Pong:
      ++framesParsed_;
      state_ = State::Header;
      sink_.onPong(payload);
      return {};
    default: {  // Close: beginFrame() let no other opcode through
      const auto close = parseClosePayload(payload);
      if (!close) {
        if (closeErrorFor(payload) == close_code::InvalidPayload) {
          return {close_code::InvalidPayload, "invalid UTF-8 in the close reason"};
        }
        return {close_code::ProtocolError, "invalid close frame payload"};
      }
      ++framesParsed_;
      state_ = State::Closed;
      sink_.onClose(close->code, close->reason);
      return {};
    }
  }
}

template <ParserSink Sink>
ProtocolError Parser<Sink>::writeTransformed(std::span<const char> data) noexcept {
  if (error_) return error_;
  if (data.empty()) return {};
  // The first offending byte decides the error, whatever the transform's write sizes:
  // invalid UTF-8 within the limit is 1007 even when the same write also crosses it.
  const std::uint64_t room =
      options_.maxMessageSize == 0 ? data.size() : options_.maxMessageSize - messageLength_;
  const bool tooBig = data.size() > room;
  const std::size_t fits = tooBig ? static_cast<std::size_t>(room) : data.size();
  if (validateText_ && !utf8_.feed(data.data(), fits)) {
    error_ = {close_code::InvalidPayload, "invalid UTF-8 in a text message"};
    return error_;
  }
  if (tooBig) {
    error_ = {close_code::MessageTooBig, "message too big"};
    return error_;
  }
  messageLength_ += data.size();
  sink_.onMessageData(data, false);
  return {};
}

}  // namespace aerie::protocol
