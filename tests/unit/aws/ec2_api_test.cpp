// The EC2 Query API mapping: request fields, XML responses recorded in AWS's shapes, error
// envelopes and their classification, and instance states.
#include "providers/aws/ec2_api.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

namespace skyd::providers::aws {
namespace {

std::string field(const QueryParams& params, std::string_view name) {
  return param(params, name).value_or("<absent>");
}

RunInstancesInput spot_input() {
  RunInstancesInput input;
  input.image_id = "ami-0abcdef1234567890";
  input.instance_type = "g5.xlarge";
  input.count = 2;
  input.zone = "us-east-1b";
  input.spot = true;
  input.tags = {{"skyd-cluster", "job-7-task-0"}, {"skyd-job", "7"}};
  input.user_data = render_user_data({"0123456789abcdef0123", 46590, {}, ""});
  input.client_token = "job-7-attempt-3";
  return input;
}

// SkyPilot's catalog names EC2 zones by id (use1-az1); the launch says which it sends.
TEST(Ec2Request, RunInstancesZoneIdGoesAsAvailabilityZoneId) {
  RunInstancesInput input = spot_input();
  input.zone = "use1-az4";
  const QueryParams params = build_run_instances(input);
  EXPECT_EQ(field(params, "Placement.AvailabilityZoneId"), "use1-az4");
  EXPECT_EQ(field(params, "Placement.AvailabilityZone"), "<absent>");
  EXPECT_TRUE(is_zone_id("usw2-lax1-az1"));
  EXPECT_FALSE(is_zone_id("us-east-1a"));
  EXPECT_FALSE(is_zone_id("us-west-2-lax-1a"));
  EXPECT_FALSE(is_zone_id("use1-az"));
}

TEST(Ec2Request, RunInstancesSpotFields) {
  const QueryParams params = build_run_instances(spot_input());
  EXPECT_EQ(field(params, "Action"), "RunInstances");
  EXPECT_EQ(field(params, "Version"), "2016-11-15");
  EXPECT_EQ(field(params, "MinCount"), "2");
  EXPECT_EQ(field(params, "MaxCount"), "2");
  EXPECT_EQ(field(params, "InstanceType"), "g5.xlarge");
  EXPECT_EQ(field(params, "ImageId"), "ami-0abcdef1234567890");
  EXPECT_EQ(field(params, "Placement.AvailabilityZone"), "us-east-1b");
  EXPECT_EQ(field(params, "ClientToken"), "job-7-attempt-3");
  EXPECT_EQ(field(params, "InstanceMarketOptions.MarketType"), "spot");
  EXPECT_EQ(field(params, "InstanceMarketOptions.SpotOptions.SpotInstanceType"), "one-time");
  EXPECT_EQ(field(params, "InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior"),
            "terminate");
  EXPECT_EQ(field(params, "TagSpecification.1.ResourceType"), "instance");
  EXPECT_EQ(field(params, "TagSpecification.1.Tag.1.Key"), "skyd-cluster");
  EXPECT_EQ(field(params, "TagSpecification.1.Tag.1.Value"), "job-7-task-0");
  EXPECT_EQ(field(params, "TagSpecification.1.Tag.2.Key"), "skyd-job");
  auto user_data = base64_decode(field(params, "UserData"));
  ASSERT_TRUE(user_data);
  auto boot = parse_skylet_boot(*user_data);
  ASSERT_TRUE(boot);
  EXPECT_EQ(boot->token, "0123456789abcdef0123");
  EXPECT_EQ(boot->port, 46590);
}

TEST(Ec2Request, RunInstancesNamesEverySecurityGroup) {
  RunInstancesInput input = spot_input();
  input.security_group_ids = {"sg-0123", "sg-4567"};
  const QueryParams params = build_run_instances(input);
  EXPECT_EQ(field(params, "SecurityGroupId.1"), "sg-0123");
  EXPECT_EQ(field(params, "SecurityGroupId.2"), "sg-4567");
  EXPECT_EQ(field(build_run_instances(spot_input()), "SecurityGroupId.1"), "<absent>");
}

TEST(Ec2Request, TheBestNetworkIsOneEfaInterfacePerCardCarryingTheGroups) {
  RunInstancesInput input = spot_input();
  input.security_group_ids = {"sg-0123"};
  input.efa_interfaces = 4;
  const QueryParams params = build_run_instances(input);
  EXPECT_EQ(field(params, "SecurityGroupId.1"), "<absent>") << "EC2 refuses both at once";
  EXPECT_EQ(field(params, "NetworkInterface.1.DeviceIndex"), "0");
  EXPECT_EQ(field(params, "NetworkInterface.1.NetworkCardIndex"), "0");
  EXPECT_EQ(field(params, "NetworkInterface.1.InterfaceType"), "efa");
  EXPECT_EQ(field(params, "NetworkInterface.1.SecurityGroupId.1"), "sg-0123");
  EXPECT_EQ(field(params, "NetworkInterface.4.DeviceIndex"), "1");
  EXPECT_EQ(field(params, "NetworkInterface.4.NetworkCardIndex"), "3");
  EXPECT_EQ(field(params, "NetworkInterface.4.InterfaceType"), "efa");
  EXPECT_EQ(field(params, "NetworkInterface.4.DeleteOnTermination"), "true");
  EXPECT_EQ(field(params, "NetworkInterface.5.DeviceIndex"), "<absent>");
}

TEST(Ec2Request, RunInstancesGivesTheNodesTheInstanceProfile) {
  RunInstancesInput input = spot_input();
  input.instance_profile = "skyd-nodes";
  EXPECT_EQ(field(build_run_instances(input), "IamInstanceProfile.Name"), "skyd-nodes");
  input.instance_profile = "arn:aws:iam::123456789012:instance-profile/skyd-nodes";
  EXPECT_EQ(field(build_run_instances(input), "IamInstanceProfile.Arn"), input.instance_profile);
  EXPECT_EQ(field(build_run_instances(input), "IamInstanceProfile.Name"), "<absent>");
  EXPECT_EQ(field(build_run_instances(spot_input()), "IamInstanceProfile.Name"), "<absent>");
}

TEST(Ec2Request, RunInstancesOnDemandHasNoMarketOptions) {
  RunInstancesInput input = spot_input();
  input.spot = false;
  const QueryParams params = build_run_instances(input);
  for (const auto& [key, value] : params)
    EXPECT_FALSE(key.starts_with("InstanceMarketOptions")) << key;
}

TEST(Ec2Request, FormEncodingIsRfc3986AndRoundTrips) {
  QueryParams params = {{"Action", "RunInstances"}, {"UserData", "a+b/c= d~"}};
  const std::string body = form_encode(params);
  EXPECT_EQ(body, "Action=RunInstances&UserData=a%2Bb%2Fc%3D%20d~");
  EXPECT_EQ(form_decode(body), params);
  EXPECT_EQ(form_decode("A=x+y")[0].second, "x y");  // what HTML forms and some SDKs send
}

TEST(Ec2Request, DescribeInstancesFiltersAndPagination) {
  DescribeInstancesInput input;
  input.filters = {{"tag:skyd-cluster", {"a", "b", "c"}},
                   {"instance-state-name", {"pending", "running"}}};
  input.max_results = 500;
  input.next_token = "eyJ2IjoiMiJ9";
  const QueryParams params = build_describe_instances(input);
  EXPECT_EQ(field(params, "Action"), "DescribeInstances");
  EXPECT_EQ(field(params, "Filter.1.Name"), "tag:skyd-cluster");
  EXPECT_EQ(param_list(params, "Filter.1.Value"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(field(params, "Filter.2.Name"), "instance-state-name");
  EXPECT_EQ(field(params, "Filter.2.Value.2"), "running");
  EXPECT_EQ(field(params, "MaxResults"), "500");
  EXPECT_EQ(field(params, "NextToken"), "eyJ2IjoiMiJ9");
}

TEST(Ec2Request, TerminateInstancesListsIds) {
  const QueryParams params = build_terminate_instances({"i-1", "i-2"});
  EXPECT_EQ(field(params, "Action"), "TerminateInstances");
  EXPECT_EQ(param_list(params, "InstanceId"), (std::vector<std::string>{"i-1", "i-2"}));
}

TEST(Ec2Request, StopAndStartInstancesListIds) {
  const QueryParams stop = build_stop_instances({"i-1"});
  EXPECT_EQ(field(stop, "Action"), "StopInstances");
  EXPECT_EQ(param_list(stop, "InstanceId"), (std::vector<std::string>{"i-1"}));
  const QueryParams start = build_start_instances({"i-1", "i-2"});
  EXPECT_EQ(field(start, "Action"), "StartInstances");
  EXPECT_EQ(param_list(start, "InstanceId"), (std::vector<std::string>{"i-1", "i-2"}));
}

TEST(Ec2Request, ParamListOrdersByIndexNotByPosition) {
  QueryParams params = {
      {"InstanceId.10", "j"}, {"InstanceId.2", "b"}, {"InstanceId.1", "a"}, {"InstanceIdX", "no"}};
  EXPECT_EQ(param_list(params, "InstanceId"), (std::vector<std::string>{"a", "b", "j"}));
}

TEST(Base64, RoundTripsEveryLength) {
  for (std::string text : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    auto decoded = base64_decode(base64_encode(text));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, text);
  }
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_FALSE(base64_decode("not*base64"));
}

// A DescribeInstances answer in the shape EC2 sends (trimmed of fields we do not read).
constexpr const char* kDescribe = R"(<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>8f7724cf-496f-496e-8fe3-example</requestId>
    <reservationSet>
        <item>
            <reservationId>r-1234567890abcdef0</reservationId>
            <ownerId>123456789012</ownerId>
            <groupSet/>
            <instancesSet>
                <item>
                    <instanceId>i-1234567890abcdef0</instanceId>
                    <imageId>ami-bff32ccc</imageId>
                    <instanceState>
                        <code>16</code>
                        <name>running</name>
                    </instanceState>
                    <privateDnsName>ip-192-168-1-88.eu-west-1.compute.internal</privateDnsName>
                    <dnsName>ec2-54-194-252-215.eu-west-1.compute.amazonaws.com</dnsName>
                    <reason/>
                    <amiLaunchIndex>0</amiLaunchIndex>
                    <instanceType>t2.micro</instanceType>
                    <launchTime>2018-05-08T16:46:19.000Z</launchTime>
                    <placement>
                        <availabilityZone>eu-west-1c</availabilityZone>
                        <groupName/>
                        <tenancy>default</tenancy>
                    </placement>
                    <privateIpAddress>192.168.1.88</privateIpAddress>
                    <ipAddress>54.194.252.215</ipAddress>
                    <instanceLifecycle>spot</instanceLifecycle>
                    <tagSet>
                        <item><key>skyd-cluster</key><value>job-1</value></item>
                        <item><key>Name</key><value>a &amp; b &lt;c&gt; &#233;</value></item>
                    </tagSet>
                </item>
                <item>
                    <instanceId>i-0598c7d356eba48d7</instanceId>
                    <instanceState><code>48</code><name>terminated</name></instanceState>
                    <stateReason>
                        <code>Server.SpotInstanceTermination</code>
                        <message>Server.SpotInstanceTermination: Spot instance termination</message>
                    </stateReason>
                    <placement><availabilityZone>eu-west-1c</availabilityZone></placement>
                    <tagSet><item><key>skyd-cluster</key><value>job-1</value></item></tagSet>
                </item>
            </instancesSet>
        </item>
    </reservationSet>
    <nextToken>page-2</nextToken>
</DescribeInstancesResponse>)";

TEST(Ec2Response, DescribeInstances) {
  auto output = parse_describe_instances(kDescribe);
  ASSERT_TRUE(output) << output.error().message();
  ASSERT_EQ(output->reservations.size(), 1u);
  EXPECT_EQ(output->next_token, "page-2");
  const auto& reservation = output->reservations[0];
  EXPECT_EQ(reservation.reservation_id, "r-1234567890abcdef0");
  ASSERT_EQ(reservation.instances.size(), 2u);
  const Ec2Instance& first = reservation.instances[0];
  EXPECT_EQ(first.instance_id, "i-1234567890abcdef0");
  EXPECT_EQ(first.state, Ec2State::kRunning);
  EXPECT_EQ(first.private_ip, "192.168.1.88");
  EXPECT_EQ(first.public_ip, "54.194.252.215");
  EXPECT_EQ(first.zone, "eu-west-1c");
  EXPECT_EQ(first.instance_type, "t2.micro");
  EXPECT_EQ(first.lifecycle, "spot");
  EXPECT_EQ(first.tag("skyd-cluster"), "job-1");
  EXPECT_EQ(first.tag("Name"), "a & b <c> \xC3\xA9");
  const InstanceStatus running = to_instance_status(first);
  EXPECT_EQ(running.state, InstanceState::kRunning);
  EXPECT_FALSE(running.preempted);
  const InstanceStatus reclaimed = to_instance_status(reservation.instances[1]);
  EXPECT_EQ(reclaimed.cluster_name, "job-1");
  EXPECT_EQ(reclaimed.state, InstanceState::kTerminated);
  EXPECT_TRUE(reclaimed.preempted);
}

TEST(Ec2Response, UserShutdownIsNotAPreemption) {
  Ec2Instance instance;
  instance.instance_id = "i-1";
  instance.state = Ec2State::kShuttingDown;
  instance.state_reason_code = "Client.UserInitiatedShutdown";
  EXPECT_FALSE(to_instance_status(instance).preempted);
  instance.state_reason_code = "Server.SpotInstanceTermination";
  EXPECT_TRUE(to_instance_status(instance).preempted);
  instance.state = Ec2State::kRunning;  // a notice alone does not make it gone
  EXPECT_FALSE(to_instance_status(instance).preempted);
}

TEST(Ec2Response, EmptyDescribe) {
  auto output = parse_describe_instances(
      R"(<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">)"
      R"(<requestId>x</requestId><reservationSet/></DescribeInstancesResponse>)");
  ASSERT_TRUE(output);
  EXPECT_TRUE(output->reservations.empty());
  EXPECT_TRUE(output->next_token.empty());
}

TEST(Ec2Response, RunInstances) {
  auto reservation =
      parse_run_instances(R"(<RunInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>req-1</requestId>
  <reservationId>r-0a</reservationId>
  <ownerId>111122223333</ownerId>
  <groupSet/>
  <instancesSet>
    <item><instanceId>i-a</instanceId><imageId>ami-1</imageId>
      <instanceState><code>0</code><name>pending</name></instanceState>
      <instanceType>c5.large</instanceType>
      <placement><availabilityZone>us-east-1a</availabilityZone></placement></item>
    <item><instanceId>i-b</instanceId>
      <instanceState><code>0</code><name>pending</name></instanceState></item>
  </instancesSet>
</RunInstancesResponse>)");
  ASSERT_TRUE(reservation) << reservation.error().message();
  EXPECT_EQ(reservation->reservation_id, "r-0a");
  ASSERT_EQ(reservation->instances.size(), 2u);
  EXPECT_EQ(reservation->instances[0].state, Ec2State::kPending);
  EXPECT_EQ(reservation->instances[1].instance_id, "i-b");
}

TEST(Ec2Response, TerminateInstances) {
  auto changes = parse_terminate_instances(
      R"(<TerminateInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
  <instancesSet>
    <item>
      <instanceId>i-1234567890abcdef0</instanceId>
      <currentState><code>32</code><name>shutting-down</name></currentState>
      <previousState><code>16</code><name>running</name></previousState>
    </item>
  </instancesSet>
</TerminateInstancesResponse>)");
  ASSERT_TRUE(changes);
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].current, Ec2State::kShuttingDown);
  EXPECT_EQ((*changes)[0].previous, Ec2State::kRunning);
}

TEST(Ec2Response, StopInstances) {
  auto changes = parse_stop_instances(
      R"(<StopInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
  <instancesSet>
    <item>
      <instanceId>i-1234567890abcdef0</instanceId>
      <currentState><code>64</code><name>stopping</name></currentState>
      <previousState><code>16</code><name>running</name></previousState>
    </item>
  </instancesSet>
</StopInstancesResponse>)");
  ASSERT_TRUE(changes) << changes.error().message();
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].instance_id, "i-1234567890abcdef0");
  EXPECT_EQ((*changes)[0].current, Ec2State::kStopping);
  EXPECT_EQ((*changes)[0].previous, Ec2State::kRunning);
  EXPECT_FALSE(parse_start_instances("<StopInstancesResponse/>")) << "another call's answer";
}

TEST(Ec2Response, StartInstances) {
  auto changes = parse_start_instances(
      R"(<StartInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
  <instancesSet>
    <item>
      <instanceId>i-1234567890abcdef0</instanceId>
      <currentState><code>0</code><name>pending</name></currentState>
      <previousState><code>80</code><name>stopped</name></previousState>
    </item>
  </instancesSet>
</StartInstancesResponse>)");
  ASSERT_TRUE(changes) << changes.error().message();
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].current, Ec2State::kPending);
  EXPECT_EQ((*changes)[0].previous, Ec2State::kStopped);
}

TEST(Ec2Response, ErrorEnvelope) {
  const Ec2Error error = parse_error(400, R"(<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>InsufficientInstanceCapacity</Code><Message>We currently do not have sufficient p4d.24xlarge capacity in the Availability Zone you requested (us-east-1a).</Message></Error></Errors><RequestID>ea966190-f9aa-478e-9ede-example</RequestID></Response>)");
  EXPECT_EQ(error.code, "InsufficientInstanceCapacity");
  EXPECT_NE(error.message.find("p4d.24xlarge"), std::string::npos);
  EXPECT_EQ(error.request_id, "ea966190-f9aa-478e-9ede-example");
  const Error converted = to_error(error, "RunInstances");
  EXPECT_EQ(converted.code, make_error_code(ProviderErrc::kNoCapacity));
  EXPECT_NE(converted.detail.find("RunInstances: InsufficientInstanceCapacity"), std::string::npos);
}

TEST(Ec2Response, NonXmlErrorBody) {
  const Ec2Error error = parse_error(502, "<html>Bad Gateway</html>");
  EXPECT_EQ(error.code, "HttpStatus502");
  EXPECT_EQ(classify_error(error.http_status, error.code), ProviderErrc::kTransient);
}

TEST(Ec2Response, RejectsMalformedXml) {
  EXPECT_FALSE(parse_describe_instances("<DescribeInstancesResponse><a></b>"));
  EXPECT_FALSE(parse_describe_instances("<DescribeInstancesResponse>"));
  EXPECT_FALSE(parse_describe_instances("<RunInstancesResponse/>"));  // the wrong document
  EXPECT_FALSE(parse_xml("<!DOCTYPE x [<!ENTITY a \"b\">]><x>&a;</x>"));
  EXPECT_FALSE(parse_xml("<x>&unknown;</x>"));
  EXPECT_FALSE(parse_xml("<x/><y/>"));
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<a>";
  EXPECT_FALSE(parse_xml(deep));
}

TEST(Xml, CdataCommentsAttributesAndPrefixes) {
  auto root =
      parse_xml(R"(<?xml version="1.0"?><!-- c --><ns:r a="1>2" b='x'><v><![CDATA[<raw>&]]></v>)"
                R"(<!-- inner --><e/><w>&#x41;&#66;</w></ns:r>)");
  ASSERT_TRUE(root) << root.error().message();
  EXPECT_EQ(root->name, "r");
  EXPECT_EQ(root->text_at("v"), "<raw>&");
  EXPECT_NE(root->child("e"), nullptr);
  EXPECT_EQ(root->text_at("w"), "AB");
  EXPECT_EQ(xml_escape("<a&'\">"), "&lt;a&amp;&apos;&quot;&gt;");
}

TEST(Xml, TextRunsBetweenEntitiesAndMarkupAreKeptWhole) {
  auto root = parse_xml(
      "<r><t>a &amp; b &lt;c&gt; d</t><u>plain text, no markup</u>"
      "<m>one<!-- gone -->two</m></r>");
  ASSERT_TRUE(root) << root.error().message();
  EXPECT_EQ(root->text_at("t"), "a & b <c> d");
  EXPECT_EQ(root->text_at("u"), "plain text, no markup");
  EXPECT_EQ(root->text_at("m"), "onetwo");
  EXPECT_FALSE(parse_xml("<r>text to the end"));
  auto crossed = parse_xml("<a>text</b>");
  ASSERT_FALSE(crossed);
  EXPECT_NE(crossed.error().message().find("</b> closes <a>"), std::string::npos)
      << crossed.error().message();
}

struct ClassificationCase {
  int status;
  const char* code;
  ProviderErrc expected;
};

TEST(Ec2Errors, ClassificationTable) {
  const ClassificationCase cases[] = {
      {500, "InsufficientInstanceCapacity", ProviderErrc::kNoCapacity},
      {400, "InsufficientInstanceCapacity", ProviderErrc::kNoCapacity},
      {400, "InsufficientHostCapacity", ProviderErrc::kNoCapacity},
      {400, "Unsupported", ProviderErrc::kNoCapacity},
      {400, "SpotMaxPriceTooLow", ProviderErrc::kNoCapacity},
      {400, "UnfulfillableCapacity", ProviderErrc::kNoCapacity},
      {400, "InsufficientCapacity", ProviderErrc::kNoCapacity},
      {400, "MaxSpotInstanceCountExceeded", ProviderErrc::kQuota},
      {400, "VcpuLimitExceeded", ProviderErrc::kQuota},
      {400, "InstanceLimitExceeded", ProviderErrc::kQuota},
      {503, "RequestLimitExceeded", ProviderErrc::kThrottled},
      {429, "HttpStatus429", ProviderErrc::kThrottled},
      {500, "InternalError", ProviderErrc::kTransient},
      {503, "Unavailable", ProviderErrc::kTransient},
      {503, "HttpStatus503", ProviderErrc::kTransient},
      {401, "AuthFailure", ProviderErrc::kAuth},
      {403, "UnauthorizedOperation", ProviderErrc::kAuth},
      {403, "InvalidClientTokenId", ProviderErrc::kAuth},
      {403, "SignatureDoesNotMatch", ProviderErrc::kAuth},
      {400, "InvalidParameterValue", ProviderErrc::kInvalid},
      {400, "InvalidParameterCombination", ProviderErrc::kInvalid},
      {400, "InvalidAMIID.Malformed", ProviderErrc::kInvalid},
      {400, "InvalidAMIID.NotFound", ProviderErrc::kNotFound},
      {400, "InvalidInstanceID.NotFound", ProviderErrc::kNotFound},
      {400, "MissingParameter", ProviderErrc::kInvalid},
      {400, "IdempotentParameterMismatch", ProviderErrc::kInvalid},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(classify_error(c.status, c.code), c.expected)
        << c.code << " (HTTP " << c.status << ")";
  }
  EXPECT_TRUE(is_retryable(ProviderErrc::kThrottled));
  EXPECT_TRUE(is_retryable(ProviderErrc::kTransient));
  EXPECT_FALSE(is_retryable(ProviderErrc::kNoCapacity));
  EXPECT_FALSE(is_retryable(ProviderErrc::kAuth));
}

TEST(UserData, RoundTripsTokenAndPort) {
  const std::string script = render_user_data({"abcdefabcdefabcdef12", 8123, {}, ""});
  EXPECT_TRUE(script.starts_with("#!/bin/bash\n"));
  auto boot = parse_skylet_boot(script);
  ASSERT_TRUE(boot);
  EXPECT_EQ(boot->token, "abcdefabcdefabcdef12");
  EXPECT_EQ(boot->port, 8123);
  EXPECT_TRUE(boot->certificate.certificate_pem.empty());
  EXPECT_EQ(script.find("--tls-cert"), std::string::npos);
  EXPECT_FALSE(parse_skylet_boot("#!/bin/sh\necho hello\n"));
}

TEST(UserData, AContainerTaskMakesSureOfARuntimeAndStartsSkyletWithIt) {
  SkyletBoot plain{"abcdefabcdefabcdef12", 8123, {}, ""};
  const std::string without = render_user_data(plain);
  EXPECT_EQ(without.find("--container-runtime"), std::string::npos);
  auto parsed = parse_skylet_boot(without);
  ASSERT_TRUE(parsed);
  EXPECT_FALSE(parsed->container);

  SkyletBoot boxed = plain;
  boxed.container = true;
  const std::string script = render_user_data(boxed);
  parsed = parse_skylet_boot(script);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->container);
  EXPECT_FALSE(parsed->gpus);
  EXPECT_EQ(script.find("--container-gpus"), std::string::npos);
  // docker or podman that answers, else docker.io from apt; skylet is started after it.
  EXPECT_NE(script.find("for candidate in docker podman"), std::string::npos);
  EXPECT_NE(script.find("apt-get install -y -q docker.io"), std::string::npos);
  EXPECT_LT(script.find("args+=(--container-runtime \"$runtime\")"),
            script.find("exec systemd-run"));

  boxed.gpus = true;
  const std::string with_gpus = render_user_data(boxed);
  parsed = parse_skylet_boot(with_gpus);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->gpus);
  // bash reads the whole script.
  const std::string path = ::testing::TempDir() + "/container-boot.sh";
  std::ofstream(path) << with_gpus;
  EXPECT_EQ(std::system(("bash -n " + path).c_str()), 0) << with_gpus;
}

TEST(UserData, CarriesTheCertificateAndNoticeSignalButNeverOnACommandLine) {
  auto authority = make_certificate_authority("test CA");
  ASSERT_TRUE(authority);
  auto certificate =
      issue_server_certificate(*authority, "c-1.skylet.internal", {"c-1.skylet.internal"});
  ASSERT_TRUE(certificate);
  const std::string script =
      render_user_data({"abcdefabcdefabcdef12", 46590, *certificate, "USR1"});
  auto boot = parse_skylet_boot(script);
  ASSERT_TRUE(boot);
  EXPECT_EQ(boot->certificate.certificate_pem, certificate->certificate_pem);
  EXPECT_EQ(boot->certificate.private_key_pem, certificate->private_key_pem);
  EXPECT_EQ(boot->notice_signal, "USR1");
  EXPECT_EQ(common_name_of(boot->certificate.certificate_pem), "c-1.skylet.internal");
  // The secrets are file contents; the command line only names the files.
  const auto args = script.substr(script.find("args=("));
  EXPECT_NE(args.find("--tls-cert /opt/skyd/skylet.crt --tls-key /opt/skyd/skylet.key"),
            std::string::npos);
  EXPECT_NE(args.find("--notice-signal USR1"), std::string::npos);
  EXPECT_EQ(args.find("abcdefabcdefabcdef12"), std::string::npos);
  EXPECT_EQ(args.find("PRIVATE KEY"), std::string::npos);
  // Only known signal names reach the script.
  const std::string odd = render_user_data({"abcdefabcdefabcdef12", 46590, {}, "KILL; rm -rf /"});
  EXPECT_EQ(odd.find("rm -rf"), std::string::npos);
}

TEST(UserData, AComputeEngineNodeWatchesItsOwnMetadataServer) {
  SkyletBoot boot{"abcdefabcdefabcdef12", 46590, {}, ""};
  EXPECT_EQ(parse_skylet_boot(render_user_data(boot))->metadata, MetadataService::kEc2);
  boot.metadata = MetadataService::kGce;
  const std::string script = render_user_data(boot);
  EXPECT_NE(script.find("--metadata-url http://metadata.google.internal --metadata-flavor gce"),
            std::string::npos);
  EXPECT_EQ(script.find("169.254.169.254"), std::string::npos);
  auto parsed = parse_skylet_boot(script);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->metadata, MetadataService::kGce);
  EXPECT_EQ(parsed->token, "abcdefabcdefabcdef12");
}

}  // namespace
}  // namespace skyd::providers::aws
