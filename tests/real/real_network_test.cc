#include "nodes/real/real_network.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "nodes/real/real_loop.h"

namespace warren {
namespace {

using ::testing::HasSubstr;

TEST(RealNetwork, LocalAddressesAreSortedUnicastWithoutLoopbackOrLinkLocal) {
  RealLoop loop;
  std::vector<IpAddress> addresses = loop.network().local_addresses();
  EXPECT_TRUE(std::is_sorted(addresses.begin(), addresses.end()));
  EXPECT_EQ(std::adjacent_find(addresses.begin(), addresses.end()), addresses.end());
  for (const IpAddress& a : addresses) {
    EXPECT_FALSE(a.is_loopback()) << a.to_string();
    EXPECT_FALSE(a.is_link_local()) << a.to_string();
    EXPECT_FALSE(a.is_unspecified()) << a.to_string();
  }
}

TEST(RealNetwork, BindingAnAddressNotOnThisHostNamesIt) {
  RealLoop loop;
  // 192.0.2.0/24 is documentation space: never assigned to a real interface.
  auto socket = loop.network().open_udp(Endpoint::parse("192.0.2.1:3478").value());
  ASSERT_FALSE(socket.ok());
  EXPECT_EQ(socket.error().message, "cannot bind 192.0.2.1:3478: Cannot assign requested address");
  auto listener = loop.network().listen(Endpoint::parse("192.0.2.1:80").value());
  ASSERT_FALSE(listener.ok());
  EXPECT_THAT(listener.error().message, HasSubstr("cannot listen on 192.0.2.1:80"));
}

TEST(RealNetwork, PortZeroPicksAPort) {
  RealLoop loop;
  auto socket = loop.network().open_udp(Endpoint(IpAddress::loopback(Family::ipv4), 0));
  ASSERT_TRUE(socket.ok()) << socket.error().message;
  EXPECT_NE((*socket)->local_endpoint().port, 0);
  EXPECT_EQ((*socket)->local_endpoint().address, IpAddress::loopback(Family::ipv4));
}

TEST(RealNetwork, StreamEventsWaitForHandlers) {
  RealLoop loop;
  Network& net = loop.network();
  auto listener = net.listen(Endpoint(IpAddress::loopback(Family::ipv4), 0));
  ASSERT_TRUE(listener.ok());
  std::unique_ptr<Stream> accepted;
  (*listener)->set_accept_handler([&](std::unique_ptr<Stream> s) { accepted = std::move(s); });
  auto client = net.connect((*listener)->local_endpoint());
  ASSERT_TRUE(client->write(ByteView(std::string_view("early"))).ok());
  ASSERT_TRUE(loop.run_until([&] { return accepted != nullptr && client->connected(); },
                             Duration::seconds(5)));
  loop.run_for(Duration::milliseconds(20));  // the bytes arrive with no handler set
  EXPECT_EQ(accepted->remote_endpoint(), client->local_endpoint());
  // Handlers set late still see the connect and the bytes.
  bool saw_connected = false;
  client->set_handlers({[&] { saw_connected = true; }, nullptr, nullptr});
  std::string got;
  accepted->set_handlers(
      {nullptr, [&](ByteView d) { got += std::string(d.as_string()); }, nullptr});
  ASSERT_TRUE(
      loop.run_until([&] { return saw_connected && got == "early"; }, Duration::seconds(5)));
}

}  // namespace
}  // namespace warren
