#include "reactor/http_head.hpp"

#include <gtest/gtest.h>

namespace skyd::http {
namespace {

TEST(ResponseHead, CarriesTheStatusTheHeadersAndTheBodysLength) {
  const Headers headers{{"Content-Type", "application/json"}, {"X-Log-Size", "0"}};
  EXPECT_EQ(response_head(200, headers, 17, true),
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Log-Size: 0\r\n"
            "Content-Length: 17\r\n\r\n");
}

TEST(ResponseHead, AClosingConnectionSaysSo) {
  EXPECT_EQ(response_head(404, {}, 0, false),
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
}

TEST(ResponseHead, StatusesWithoutABodyHaveNoLength) {
  for (int status : {101, 204, 304}) {
    const auto head = response_head(status, {}, 0, true);
    ASSERT_TRUE(head);
    EXPECT_EQ(head->find("Content-Length"), std::string::npos) << status;
    EXPECT_FALSE(status_has_body(status));
  }
  EXPECT_TRUE(status_has_body(200));
}

TEST(ResponseHead, ALineBreakOrNulInAHeaderRefusesTheWholeHead) {
  EXPECT_FALSE(response_head(200, {{"X-A", "one\r\nX-B: two"}}, 0, true));
  EXPECT_FALSE(response_head(200, {{"X-A", "one\ntwo"}}, 0, true));
  EXPECT_FALSE(response_head(200, {{"X-A\r\n", "v"}}, 0, true));
  EXPECT_FALSE(response_head(200, {{"X-A", std::string("a\0b", 3)}}, 0, true));
  EXPECT_FALSE(response_head(200, {{"", "v"}}, 0, true));
  EXPECT_FALSE(response_head(200, {{"X A", "v"}}, 0, true));
  EXPECT_FALSE(response_head(200, {{"X:A", "v"}}, 0, true));
}

TEST(ResponseHead, TheServerAloneFramesTheMessage) {
  const Headers headers{{"content-length", "999"},
                        {"Transfer-Encoding", "chunked"},
                        {"CONNECTION", "keep-alive"},
                        {"X-Kept", "yes"}};
  EXPECT_EQ(response_head(200, headers, 2, false),
            "HTTP/1.1 200 OK\r\nX-Kept: yes\r\nContent-Length: 2\r\nConnection: close\r\n\r\n");
}

}  // namespace
}  // namespace skyd::http
