// An ordered list of HTTP header fields with case-insensitive lookup.
//
// Shape: instead of one std::string pair per field, all names and values live in one
// arena string and the fields are string_views into it. Storing a request head of
// twenty fields is then two allocations (arena + field vector) instead of up to forty,
// and none at all once a connection's parser reuses the capacity for the next request
// (clear() keeps it). The views are rebased whenever the arena moves (growth, copy,
// move), so HeaderField references from iteration behave like those into a
// std::vector<std::pair<std::string, std::string>>: valid until the next modification.
//
// Names are stored as given (case preserved for the response writer); lookups compare
// ASCII case-insensitively. No validation happens here: the request parser validates
// what it stores, and writeResponseHead() checks what applications set
// (isValidFieldName / isValidFieldValue).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aerie::http {

/// ASCII case-insensitive equality (header names, tokens). Non-ASCII bytes compare exactly.
bool iequals(std::string_view a, std::string_view b) noexcept;

/// field-name = token (RFC 9110 5.1): non-empty, tchar only.
bool isValidFieldName(std::string_view name) noexcept;

/// field-value (RFC 9110 5.5): VCHAR / obs-text / SP / HTAB, no leading or trailing
/// whitespace. Rejects CR, LF, NUL and other controls, so a value can never split a
/// response head.
bool isValidFieldValue(std::string_view value) noexcept;

struct HeaderField {
  std::string_view name;
  std::string_view value;
};

class Headers {
 public:
  using const_iterator = std::vector<HeaderField>::const_iterator;

  Headers() = default;
  Headers(const Headers& other);
  Headers(Headers&& other) noexcept;
  Headers& operator=(const Headers& other);
  Headers& operator=(Headers&& other) noexcept;
  ~Headers() = default;

  /// Appends a field (duplicates are kept, in order). name/value may view this object.
  void add(std::string_view name, std::string_view value);

  /// Replaces every field called `name` by one field: it takes the position of the first
  /// such field (or is appended if there is none).
  void set(std::string_view name, std::string_view value);

  /// Removes every field called `name`; returns how many were removed.
  std::size_t remove(std::string_view name);

  /// Removes all fields; keeps the storage for reuse.
  void clear() noexcept;

  /// Exchanges the fields and their storage (no copy unless an arena is still small).
  void swap(Headers& other) noexcept;
  friend void swap(Headers& a, Headers& b) noexcept { a.swap(b); }

  /// Value of the first field called `name`.
  std::optional<std::string_view> get(std::string_view name) const noexcept;

  /// Values of all fields called `name`, in order.
  std::vector<std::string_view> getAll(std::string_view name) const;

  /// All values of `name` joined with ", " (RFC 9110 5.3: equivalent to the separate
  /// fields for list-valued headers). Empty if absent.
  std::string combined(std::string_view name) const;

  bool contains(std::string_view name) const noexcept { return find(name) != nullptr; }

  /// Number of fields called `name`.
  std::size_t count(std::string_view name) const noexcept;

  /// True if `token` is an element of the comma-separated list in any field called
  /// `name` (ASCII case-insensitive, OWS around elements ignored). For Connection,
  /// Upgrade and the like: hasToken("connection", "upgrade") matches
  /// "Connection: keep-alive, Upgrade". Quoted strings are not interpreted: the lists
  /// this is meant for hold tokens only.
  bool hasToken(std::string_view name, std::string_view token) const noexcept;

  std::size_t size() const noexcept { return fields_.size(); }
  bool empty() const noexcept { return fields_.empty(); }
  const HeaderField& operator[](std::size_t index) const noexcept { return fields_[index]; }
  const_iterator begin() const noexcept { return fields_.begin(); }
  const_iterator end() const noexcept { return fields_.end(); }

  /// Reserves room for `fields` fields holding `bytes` bytes of names and values.
  void reserve(std::size_t fields, std::size_t bytes);

  /// Bytes of names and values stored (a measure of the head, without separators).
  std::size_t storedBytes() const noexcept { return arena_.size(); }

 private:
  const HeaderField* find(std::string_view name) const noexcept;
  // Points the views at `base` instead of `oldBase` (same offsets).
  void rebase(const char* oldBase, const char* base) noexcept;
  // Rebuilds the arena without the bytes of removed or replaced fields.
  void compact();

  std::string arena_;
  std::vector<HeaderField> fields_;
  std::size_t garbage_ = 0;  // arena bytes no field refers to any more
};

}  // namespace aerie::http
