#include "promise_worker.hpp"

#include <new>

#include "../core/detector_error.hpp"

namespace emofleet {

Napi::Error codedError(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  return error;
}

Napi::Value rejectedPromise(Napi::Env env, const char* code, const std::string& message) {
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  deferred.Reject(codedError(env, code, message).Value());
  return deferred.Promise();
}

void PromiseWorker::Execute() {
  try {
    run();
    return;
  } catch (const DetectorError& error) {
    errorCode_ = errorCodeName(error.code());
    errorMessage_ = error.what();
  } catch (const std::bad_alloc&) {
    errorCode_ = errorCodeName(ErrorCode::Internal);
    errorMessage_ = "out of memory";
  } catch (const std::exception& error) {
    errorCode_ = errorCodeName(ErrorCode::Internal);
    errorMessage_ = error.what();
  }
  SetError(errorMessage_);
}

void PromiseWorker::OnOK() {
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  try {
    deferred_.Resolve(result(env));
  } catch (const Napi::Error& error) {
    deferred_.Reject(error.Value());
  }
}

void PromiseWorker::OnError(const Napi::Error&) {
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  deferred_.Reject(codedError(env, errorCode_, errorMessage_).Value());
}

}  // namespace emofleet
