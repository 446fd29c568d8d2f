// Tests of config/data_config.h: node.toml and hub.toml values are checked on load, and an error
// names the file and key.
#include "config/data_config.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/support/temp_dir.h"

namespace osrc::config {
namespace {

using testing::TempDir;
using testing::WriteFile;

constexpr char kHubKey[] = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";

Status LoadNode(const TempDir& tmp, const std::string& hub_table, NodeConfig* out) {
  WriteFile(tmp.Path("node.toml"), "site = 'MAS'\n[hub]\n" + hub_table);
  return LoadNodeConfig(tmp.path(), out);
}

TEST(DataConfigTest, TcpEndpoints) {
  EXPECT_TRUE(IsTcpEndpoint("tcp://127.0.0.1:7400"));
  EXPECT_TRUE(IsTcpEndpoint("tcp://hub.example.org:65535"));
  EXPECT_TRUE(IsTcpEndpoint("tcp://127.0.0.1:*"));
  EXPECT_FALSE(IsTcpEndpoint("127.0.0.1:7400"));
  EXPECT_FALSE(IsTcpEndpoint("tcp://127.0.0.1"));
  EXPECT_FALSE(IsTcpEndpoint("tcp://:7400"));
  EXPECT_FALSE(IsTcpEndpoint("tcp://127.0.0.1:"));
  EXPECT_FALSE(IsTcpEndpoint("tcp://127.0.0.1:65536"));
  EXPECT_FALSE(IsTcpEndpoint("tcp://127.0.0.1:74x0"));
  EXPECT_FALSE(IsTcpEndpoint("ipc:///tmp/hub:1"));
}

TEST(DataConfigTest, NodeHubMayBeUnsetButNotMalformed) {
  TempDir tmp("osrc-config");
  NodeConfig config;
  ASSERT_TRUE(LoadNode(tmp, "endpoint = ''\npublic_key = ''\n", &config).ok());
  EXPECT_EQ(config.hub_endpoint, "");
  std::string good =
      "endpoint = 'tcp://10.0.0.1:7400'\npublic_key = '" + std::string(kHubKey) + "'\n";
  ASSERT_TRUE(LoadNode(tmp, good, &config).ok());
  EXPECT_EQ(config.hub_public_key, kHubKey);

  Status bad_key = LoadNode(tmp, "public_key = 'abc'\n", &config);
  EXPECT_EQ(bad_key.code(), ErrorCode::kBadInput);
  EXPECT_EQ(bad_key.where(), tmp.Path("node.toml") + ": [hub] public_key");
  Status bad_endpoint = LoadNode(tmp, "endpoint = '10.0.0.1:7400'\n", &config);
  EXPECT_EQ(bad_endpoint.code(), ErrorCode::kBadInput);
  EXPECT_EQ(bad_endpoint.where(), tmp.Path("node.toml") + ": [hub] endpoint");
}

TEST(DataConfigTest, HubBindMustBeATcpEndpoint) {
  TempDir tmp("osrc-config");
  HubConfig config;
  WriteFile(tmp.Path("hub.toml"), "bind = 'tcp://127.0.0.1:*'\n");
  ASSERT_TRUE(LoadHubConfig(tmp.path(), &config).ok());
  EXPECT_EQ(config.bind, "tcp://127.0.0.1:*");
  WriteFile(tmp.Path("hub.toml"), "bind = '0.0.0.0'\n");
  Status status = LoadHubConfig(tmp.path(), &config);
  EXPECT_EQ(status.code(), ErrorCode::kBadInput);
  EXPECT_EQ(status.where(), tmp.Path("hub.toml") + ": bind");
}

TEST(DataConfigTest, MissingFolderAndFileAreNamed) {
  TempDir tmp("osrc-config");
  NodeConfig config;
  Status no_folder = LoadNodeConfig(tmp.Path("nowhere"), &config);
  EXPECT_EQ(no_folder.code(), ErrorCode::kNotFound);
  EXPECT_EQ(no_folder.where(), tmp.Path("nowhere"));
  Status no_file = LoadNodeConfig(tmp.path(), &config);
  EXPECT_EQ(no_file.code(), ErrorCode::kNotFound);
  EXPECT_EQ(no_file.where(), tmp.Path("node.toml"));
}

TEST(DataConfigTest, UnknownKeysAreRefusedWithLineAndNearestKey) {
  TempDir tmp("osrc-config");
  NodeConfig node;
  WriteFile(tmp.Path("node.toml"), "site = 'MAS'\n[hub]\nendpoint = ''\n[sync]\nwindw = 8\n");
  Status typo = LoadNodeConfig(tmp.path(), &node);
  EXPECT_EQ(typo.code(), ErrorCode::kBadInput);
  EXPECT_EQ(typo.what(), "unknown key \"windw\" in [sync]; did you mean \"window\"?");
  EXPECT_EQ(typo.where(), tmp.Path("node.toml") + ":5");

  WriteFile(tmp.Path("node.toml"), "site = 'MAS'\n[hubb]\nendpoint = ''\n");
  EXPECT_EQ(LoadNodeConfig(tmp.path(), &node).what(),
            "unknown table \"hubb\"; did you mean \"hub\"?");
  WriteFile(tmp.Path("node.toml"), "site = 'MAS'\nhub = 'tcp://10.0.0.1:7400'\n");
  EXPECT_EQ(LoadNodeConfig(tmp.path(), &node).what(), "\"hub\" must be a table, [hub]");

  HubConfig hub;
  WriteFile(tmp.Path("hub.toml"), "bind = 'tcp://127.0.0.1:*'\n\ncolour = 'blue'\n");
  Status far = LoadHubConfig(tmp.path(), &hub);
  EXPECT_EQ(far.what(), "unknown key \"colour\"");
  EXPECT_EQ(far.where(), tmp.Path("hub.toml") + ":3");
  WriteFile(tmp.Path("hub.toml"), "max_skew = 10\n");
  EXPECT_EQ(LoadHubConfig(tmp.path(), &hub).what(),
            "unknown key \"max_skew\"; did you mean \"max_skew_ms\"?");
}

TEST(DataConfigTest, WrittenConfigurationLoadsBackUnchanged) {
  TempDir tmp("osrc-config");
  NodeConfig node;
  node.site = "ADS";
  node.hub_endpoint = "tcp://10.0.0.1:7400";
  node.hub_public_key = kHubKey;
  node.link.window = 7;
  node.link.max_message_bytes = 1 << 20;
  WriteFile(tmp.Path("node.toml"), NodeConfigToml(node));
  NodeConfig loaded;
  ASSERT_TRUE(LoadNodeConfig(tmp.path(), &loaded).ok());
  EXPECT_EQ(NodeConfigToml(loaded), NodeConfigToml(node));
  EXPECT_EQ(loaded.link.max_message_bytes, 1 << 20);

  HubConfig hub;
  hub.group_commit_max = 9;
  hub.console_bind = "0.0.0.0:8080";
  hub.retention = {{"participants", "10y"}, {"services", "60m"}};
  WriteFile(tmp.Path("hub.toml"), HubConfigToml(hub));
  HubConfig hub_loaded;
  ASSERT_TRUE(LoadHubConfig(tmp.path(), &hub_loaded).ok());
  EXPECT_EQ(HubConfigToml(hub_loaded), HubConfigToml(hub));
  EXPECT_EQ(hub_loaded.console_bind, "0.0.0.0:8080");
  EXPECT_EQ(hub_loaded.retention, hub.retention);
}

TEST(DataConfigTest, RetentionPeriodsAreCheckedNamingTheKey) {
  TempDir tmp("osrc-config");
  HubConfig loaded;
  WriteFile(tmp.Path("hub.toml"), "[retention]\nservices = '5 years'\n");
  Status status = LoadHubConfig(tmp.path(), &loaded);
  EXPECT_EQ(status.code(), ErrorCode::kBadInput);
  EXPECT_NE(status.ToString().find("hub.toml: [retention] services"), std::string::npos)
      << status.ToString();
  WriteFile(tmp.Path("hub.toml"), "[retention]\nservice = '5y'\n");
  status = LoadHubConfig(tmp.path(), &loaded);
  EXPECT_NE(status.ToString().find("did you mean \"services\"?"), std::string::npos)
      << status.ToString();
  WriteFile(tmp.Path("hub.toml"), "[retention]\nservices = 5\n");
  EXPECT_EQ(LoadHubConfig(tmp.path(), &loaded).code(), ErrorCode::kBadInput);
}

TEST(DataConfigTest, ConsoleBindIsHostPortOrOffAndAnErrorNamesTheKey) {
  EXPECT_TRUE(IsConsoleBind("off"));
  EXPECT_TRUE(IsConsoleBind("127.0.0.1:0"));
  EXPECT_TRUE(IsConsoleBind("[::1]:7480"));
  EXPECT_FALSE(IsConsoleBind("127.0.0.1"));
  EXPECT_FALSE(IsConsoleBind(":7480"));
  EXPECT_FALSE(IsConsoleBind("host:70000"));
  EXPECT_FALSE(IsConsoleBind("host:http"));
  TempDir tmp("osrc-config");
  WriteFile(tmp.Path("hub.toml"), HubConfigToml(HubConfig{}) + "");
  HubConfig loaded;
  ASSERT_TRUE(LoadHubConfig(tmp.path(), &loaded).ok());
  EXPECT_EQ(loaded.console_bind, "127.0.0.1:7480");  // the default: loopback
  HubConfig bad;
  bad.console_bind = "nowhere";
  WriteFile(tmp.Path("hub.toml"), HubConfigToml(bad));
  Status status = LoadHubConfig(tmp.path(), &loaded);
  EXPECT_EQ(status.code(), ErrorCode::kBadInput);
  EXPECT_NE(status.ToString().find("[console] bind"), std::string::npos) << status.ToString();
}

}  // namespace
}  // namespace osrc::config
