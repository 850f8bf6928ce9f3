#include "aerie/http/headers.hpp"

#include <algorithm>

#include "char_class.hpp"

namespace aerie::http {

namespace {

// The first growth reserves enough for a typical browser request head, so that a head
// is usually stored with a single arena allocation.
constexpr std::size_t kMinArena = 512;
constexpr std::size_t kTypicalFields = 12;

std::string_view trimOws(std::string_view s) noexcept {
  while (!s.empty() && detail::isOws(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && detail::isOws(s.back()))
    s.remove_suffix(1);
  return s;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i] && detail::toLower(a[i]) != detail::toLower(b[i])) return false;
  }
  return true;
}

bool isValidFieldName(std::string_view name) noexcept {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return detail::is(c, detail::kTchar); });
}

bool isValidFieldValue(std::string_view value) noexcept {
  if (!value.empty() && (detail::isOws(value.front()) || detail::isOws(value.back()))) {
    return false;
  }
  return std::all_of(value.begin(), value.end(),
                     [](char c) { return detail::is(c, detail::kFieldVchar); });
}

Headers::Headers(const Headers& other)
    : arena_(other.arena_), fields_(other.fields_), garbage_(other.garbage_) {
  rebase(other.arena_.data(), arena_.data());
}

Headers::Headers(Headers&& other) noexcept
    : fields_(std::move(other.fields_)), garbage_(other.garbage_) {
  // A heap arena is stolen and the views stay valid; a small (SSO) arena is copied, and
  // the views must follow it. `oldBase` lies in `other`, which is still alive.
  const char* oldBase = other.arena_.data();
  arena_ = std::move(other.arena_);
  if (arena_.data() != oldBase) rebase(oldBase, arena_.data());
  other.clear();
}

Headers& Headers::operator=(const Headers& other) {
  if (this != &other) {
    Headers copy(other);
    *this = std::move(copy);
  }
  return *this;
}

Headers& Headers::operator=(Headers&& other) noexcept {
  if (this != &other) {
    const char* oldBase = other.arena_.data();
    fields_ = std::move(other.fields_);
    arena_ = std::move(other.arena_);
    garbage_ = other.garbage_;
    if (arena_.data() != oldBase) rebase(oldBase, arena_.data());
    other.clear();
  }
  return *this;
}

void Headers::rebase(const char* oldBase, const char* base) noexcept {
  if (oldBase == base) return;
  for (HeaderField& field : fields_) {
    field.name = {base + (field.name.data() - oldBase), field.name.size()};
    field.value = {base + (field.value.data() - oldBase), field.value.size()};
  }
}

void Headers::add(std::string_view name, std::string_view value) {
  const std::size_t offset = arena_.size();
  const std::size_t need = offset + name.size() + value.size();
  if (need > arena_.capacity()) {
    // Grow by hand rather than through append(): name/value may point into the old
    // arena, which must stay alive until they are copied.
    std::string bigger;
    bigger.reserve(std::max({need, arena_.capacity() * 2, kMinArena}));
    bigger.append(arena_).append(name).append(value);
    rebase(arena_.data(), bigger.data());
    arena_.swap(bigger);
  } else {
    arena_.append(name).append(value);
  }
  const char* base = arena_.data() + offset;
  // One allocation for a typical head instead of growing 1, 2, 4, 8.
  if (fields_.capacity() == 0) fields_.reserve(kTypicalFields);
  fields_.push_back({{base, name.size()}, {base + name.size(), value.size()}});
}

void Headers::set(std::string_view name, std::string_view value) {
  auto first = std::find_if(fields_.begin(), fields_.end(),
                            [&](const HeaderField& f) { return iequals(f.name, name); });
  if (first == fields_.end()) {
    add(name, value);
    return;
  }
  const std::size_t index = static_cast<std::size_t>(first - fields_.begin());
  // Append the replacement as a temporary last field (this copes with `value` viewing
  // the arena), then move its value into place and drop the duplicates.
  add({}, value);
  garbage_ += fields_[index].value.size();
  fields_[index].value = fields_.back().value;
  fields_.pop_back();
  for (std::size_t i = fields_.size(); i-- > index + 1;) {
    if (iequals(fields_[i].name, name)) {
      garbage_ += fields_[i].name.size() + fields_[i].value.size();
      fields_.erase(fields_.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
  if (garbage_ > kMinArena && garbage_ * 2 > arena_.size()) compact();
}

std::size_t Headers::remove(std::string_view name) {
  const std::size_t before = fields_.size();
  std::erase_if(fields_, [&](const HeaderField& f) {
    if (!iequals(f.name, name)) return false;
    garbage_ += f.name.size() + f.value.size();
    return true;
  });
  if (fields_.empty()) {
    clear();
  } else if (garbage_ > kMinArena && garbage_ * 2 > arena_.size()) {
    compact();
  }
  return before - fields_.size();
}

void Headers::compact() {
  // Reserve exactly the live bytes up front: the views taken below must not move.
  std::size_t live = 0;
  for (const HeaderField& field : fields_)
    live += field.name.size() + field.value.size();
  std::string packed;
  packed.reserve(std::max(live, kMinArena));
  for (HeaderField& field : fields_) {
    const char* base = packed.data() + packed.size();
    packed.append(field.name).append(field.value);
    field = {{base, field.name.size()}, {base + field.name.size(), field.value.size()}};
  }
  arena_.swap(packed);
  garbage_ = 0;
}

void Headers::clear() noexcept {
  fields_.clear();
  arena_.clear();
  garbage_ = 0;
}

void Headers::swap(Headers& other) noexcept {
  const char* mine = arena_.data();
  const char* theirs = other.arena_.data();
  arena_.swap(other.arena_);
  fields_.swap(other.fields_);
  std::swap(garbage_, other.garbage_);
  // A heap arena changes hands at the same address; a small (SSO) one is copied, and the
  // views must follow it.
  rebase(theirs, arena_.data());
  other.rebase(mine, other.arena_.data());
}

void Headers::reserve(std::size_t fields, std::size_t bytes) {
  fields_.reserve(fields);
  if (bytes > arena_.capacity()) {
    std::string bigger;
    bigger.reserve(bytes);
    bigger.append(arena_);
    rebase(arena_.data(), bigger.data());
    arena_.swap(bigger);
  }
}

const HeaderField* Headers::find(std::string_view name) const noexcept {
  for (const HeaderField& field : fields_) {
    if (iequals(field.name, name)) return &field;
  }
  return nullptr;
}

std::optional<std::string_view> Headers::get(std::string_view name) const noexcept {
  if (const HeaderField* field = find(name)) return field->value;
  return std::nullopt;
}

std::vector<std::string_view> Headers::getAll(std::string_view name) const {
  std::vector<std::string_view> values;
  for (const HeaderField& field : fields_) {
    if (iequals(field.name, name)) values.push_back(field.value);
  }
  return values;
}

std::string Headers::combined(std::string_view name) const {
  std::string out;
  bool first = true;
  for (const HeaderField& field : fields_) {
    if (!iequals(field.name, name)) continue;
    if (!first) out += ", ";
    out += field.value;
    first = false;
  }
  return out;
}

std::size_t Headers::count(std::string_view name) const noexcept {
  return static_cast<std::size_t>(std::count_if(
      fields_.begin(), fields_.end(), [&](const HeaderField& f) { return iequals(f.name, name); }));
}

bool Headers::hasToken(std::string_view name, std::string_view token) const noexcept {
  for (const HeaderField& field : fields_) {
    if (!iequals(field.name, name)) continue;
    std::string_view rest = field.value;
    while (true) {
      const std::size_t comma = rest.find(',');
      if (iequals(trimOws(rest.substr(0, comma)), token)) return true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

}  // namespace aerie::http
