// The checker of the exercise track (docs/exercises.md).
//
// Each exercise has a check: it calls the answer's function on fixed-seed inputs of awkward
// shapes (size-1 dims, odd sizes, broadcast batch dims, masked rows) and compares it with
// qkv's own op. A forward must match to float tolerance; a backward must pass gradcheck
// (central differences of qkv's forward) and match the gradient qkv's own backward gives.
// A failure names the worst element the way autograd/gradcheck does: which input, its
// index, the expected value and the one the answer gave.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "examples/exercises/check/answers.h"

namespace qkv::exercises {

enum class Status { Passed, NotWritten, Wrong };
const char* status_name(Status s);  // "passed", "not written yet", "wrong"

struct Outcome {
  Status status = Status::Passed;
  std::string detail;  // for Wrong: what differs, where, expected and got
};

struct Exercise {
  std::string name;                           // the function's name in exercises.h, and EX=name
  std::string chapter;                        // "ch05"
  std::string summary;                        // one line
  std::function<void(const Answers&)> check;  // throws CheckFailed (or what the answer threw)
};

// Every exercise, in chapter order.
const std::vector<Exercise>& all_exercises();
const Exercise* find_exercise(const std::string& name);  // null when there is none

// Run one exercise's check against a set of answers.
Outcome check_exercise(const Exercise& ex, const Answers& answers);

}  // namespace qkv::exercises
