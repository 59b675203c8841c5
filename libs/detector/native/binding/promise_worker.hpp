// An AsyncWorker that settles a Promise: run() executes off the JS thread and touches no N-API; failures
// become JS errors with a `code` property.
#pragma once

#include <napi.h>

#include <string>

namespace emofleet {

/** new Error(message) with error.code = code. */
Napi::Error codedError(Napi::Env env, const char* code, const std::string& message);

/** A Promise already rejected with a coded error (for argument errors found on the JS thread). */
Napi::Value rejectedPromise(Napi::Env env, const char* code, const std::string& message);

class PromiseWorker : public Napi::AsyncWorker {
 public:
  explicit PromiseWorker(Napi::Env env, const char* resourceName)
      : Napi::AsyncWorker(env, resourceName), deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise promise() const { return deferred_.Promise(); }

 protected:
  /** Runs on a libuv worker thread. Throw DetectorError for expected failures. */
  virtual void run() = 0;
  /** Runs on the JS thread after run() succeeded. */
  virtual Napi::Value result(Napi::Env env) = 0;

 private:
  void Execute() final;
  void OnOK() final;
  void OnError(const Napi::Error& error) final;

  Napi::Promise::Deferred deferred_;
  const char* errorCode_ = "EMOFLEET_INTERNAL";
  std::string errorMessage_;
};

}  // namespace emofleet
