#pragma once
// Plain HTTP calls from a test thread to fakecloud (made on a shard of their own): the answer's
// status, headers, raw body and parsed JSON.

#include "reactor/http_client.hpp"
#include "reactor/shard_pool.hpp"

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>

namespace skyd::testing {

struct HttpAnswer {
  int status = 0;
  std::string body;
  Json json;
  http::Headers headers;
  const std::string* header(std::string_view name) const {
    return http::find_header(headers, name);
  }
  // The string at a path of object keys; empty when absent.
  std::string text(std::initializer_list<const char*> path) const {
    const Json* at = &json;
    for (const char* key : path) at = at ? at->find(key) : nullptr;
    return at && at->as_string() ? std::string(*at->as_string()) : std::string();
  }
};

inline Task<HttpAnswer> send_http(http::Client* client, std::string url, std::string method,
                                  std::string target, std::string body, http::Headers headers) {
  http::Request request;
  request.method = std::move(method);
  request.target = std::move(target);
  request.body = std::move(body);
  request.headers = std::move(headers);
  auto response = co_await client->request(*http::Endpoint::parse(url), std::move(request),
                                           {std::chrono::seconds(30)});
  HttpAnswer answer;
  if (!response) {
    answer.status = -1;
    answer.body = response.error().message();
    co_return answer;
  }
  answer.status = response->status;
  answer.body = std::move(response->body);
  answer.headers = std::move(response->headers);
  if (auto json = parse_json(answer.body)) answer.json = std::move(*json);
  co_return answer;
}

class TestHttp {
 public:
  TestHttp() {
    pool_.start();
    client_ = std::make_unique<http::Client>(pool_.executor(0));
  }
  ~TestHttp() {
    client_.reset();
    pool_.stop();
  }
  TestHttp(const TestHttp&) = delete;
  TestHttp& operator=(const TestHttp&) = delete;

  // Runs `calls` (a coroutine that makes requests with the client) on the client's shard.
  HttpAnswer run(std::function<Task<HttpAnswer>(http::Client*)> calls) {
    http::Client* client = client_.get();
    return pool_.submit<HttpAnswer>(0, [=] { return calls(client); }).get();
  }

  HttpAnswer call(std::string url, std::string method, std::string target, std::string body = {},
                  http::Headers headers = {}) {
    http::Client* client = client_.get();
    return pool_
        .submit<HttpAnswer>(0,
                            [=] { return send_http(client, url, method, target, body, headers); })
        .get();
  }

 private:
  ShardPool pool_{1};
  std::unique_ptr<http::Client> client_;
};

}  // namespace skyd::testing
