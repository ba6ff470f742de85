// Cross-check of fakecloud against the official AWS SDK for JavaScript v3: the SDK's own SigV4
// signatures must pass fakecloud's check, and fakecloud's XML (results and error envelopes) must
// parse in the SDK. Usage: FAKECLOUD_URL=http://127.0.0.1:PORT node check.mjs
import {
  EC2Client,
  RunInstancesCommand,
  DescribeInstancesCommand,
  DescribeImagesCommand,
  DescribeVolumesCommand,
  CreateSecurityGroupCommand,
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupsCommand,
  DeleteSecurityGroupCommand,
  TerminateInstancesCommand,
  StopInstancesCommand,
  StartInstancesCommand,
  paginateDescribeInstances,
} from "@aws-sdk/client-ec2";
import assert from "node:assert/strict";

const endpoint = process.env.FAKECLOUD_URL;
assert.ok(endpoint, "FAKECLOUD_URL is required");
const credentials = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};
const ec2 = new EC2Client({ region: "us-east-1", endpoint, credentials, maxAttempts: 3 });

async function admin(method, path, body) {
  const response = await fetch(endpoint + path, {
    method,
    body: body ? JSON.stringify(body) : undefined,
    headers: body ? { "content-type": "application/json" } : {},
  });
  assert.equal(response.status, 200, `${path}: HTTP ${response.status}`);
  return response.json();
}

function check(name, fn) {
  return fn().then(
    () => console.log(`ok   ${name}`),
    (error) => {
      console.error(`FAIL ${name}: ${error.stack || error}`);
      process.exitCode = 1;
    },
  );
}

const cluster = "sdk-check-" + Date.now();
const runInput = {
  ImageId: "ami-0f9e8d7c6b5a40312",
  InstanceType: "m5.large",
  MinCount: 2,
  MaxCount: 2,
  ClientToken: cluster + "-token",
  Placement: { AvailabilityZone: "us-east-1b" },
  InstanceMarketOptions: {
    MarketType: "spot",
    SpotOptions: { SpotInstanceType: "one-time", InstanceInterruptionBehavior: "terminate" },
  },
  TagSpecifications: [
    { ResourceType: "instance", Tags: [{ Key: "skyd-cluster", Value: cluster }, { Key: "Name", Value: "a & <b>" }] },
  ],
  UserData: Buffer.from("#!/bin/bash\necho hello\n").toString("base64"),
  BlockDeviceMappings: [
    {
      DeviceName: "/dev/sda1",
      Ebs: { VolumeSize: 100, VolumeType: "gp3", Iops: 7000, Throughput: 437, DeleteOnTermination: true },
    },
  ],
};
let ids = [];

await check("RunInstances is signed, accepted and parsed", async () => {
  const out = await ec2.send(new RunInstancesCommand(runInput));
  assert.ok(out.ReservationId?.startsWith("r-"), "ReservationId");
  assert.equal(out.Instances.length, 2);
  for (const instance of out.Instances) {
    assert.match(instance.InstanceId, /^i-[0-9a-f]{17}$/);
    assert.equal(instance.State.Name, "pending");
    assert.equal(instance.State.Code, 0);
    assert.equal(instance.Placement.AvailabilityZone, "us-east-1b");
    assert.equal(instance.InstanceLifecycle, "spot");
  }
  ids = out.Instances.map((i) => i.InstanceId);
});

await check("the same ClientToken returns the same reservation", async () => {
  const again = await ec2.send(new RunInstancesCommand(runInput));
  assert.deepEqual(again.Instances.map((i) => i.InstanceId), ids);
});

await check("DescribeInstances with tag filters paginates and parses tags", async () => {
  const seen = [];
  const pages = paginateDescribeInstances(
    { client: ec2, pageSize: 5 },
    { Filters: [{ Name: "tag:skyd-cluster", Values: [cluster] }] },
  );
  for await (const page of pages) {
    for (const reservation of page.Reservations ?? []) {
      for (const instance of reservation.Instances) {
        seen.push(instance.InstanceId);
        const tags = Object.fromEntries(instance.Tags.map((t) => [t.Key, t.Value]));
        assert.equal(tags["skyd-cluster"], cluster);
        assert.equal(tags["Name"], "a & <b>");
        assert.equal(instance.InstanceType, "m5.large");
        assert.ok(instance.LaunchTime instanceof Date, "LaunchTime is a date");
      }
    }
  }
  assert.deepEqual(seen.sort(), [...ids].sort());
});

await check("DescribeImages names the image's root device; an unknown AMI is InvalidAMIID.NotFound", async () => {
  const out = await ec2.send(new DescribeImagesCommand({ ImageIds: ["ami-0f9e8d7c6b5a40312"] }));
  assert.equal(out.Images.length, 1);
  assert.equal(out.Images[0].RootDeviceName, "/dev/sda1");
  assert.equal(out.Images[0].BlockDeviceMappings[0].Ebs.VolumeSize, 16);
  await assert.rejects(
    ec2.send(new DescribeImagesCommand({ ImageIds: ["ami-0123456789abcdef1"] })),
    (error) => error.name === "InvalidAMIID.NotFound" && error.$metadata.httpStatusCode === 400,
  );
  await assert.rejects(
    ec2.send(new RunInstancesCommand({ ...runInput, ClientToken: undefined, ImageId: "ami-0123456789abcdef1" })),
    (error) => error.name === "InvalidAMIID.NotFound",
  );
});

await check("the root volume RunInstances asked for shows in DescribeInstances", async () => {
  const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [ids[0]] }));
  const instance = out.Reservations[0].Instances[0];
  assert.equal(instance.RootDeviceName, "/dev/sda1");
  assert.equal(instance.BlockDeviceMappings.length, 1);
  assert.equal(instance.BlockDeviceMappings[0].DeviceName, "/dev/sda1");
  assert.match(instance.BlockDeviceMappings[0].Ebs.VolumeId, /^vol-[0-9a-f]{17}$/);
  assert.equal(instance.BlockDeviceMappings[0].Ebs.DeleteOnTermination, true);
  const volumes = await ec2.send(
    new DescribeVolumesCommand({ Filters: [{ Name: "attachment.instance-id", Values: [ids[0]] }] }),
  );
  assert.equal(volumes.Volumes.length, 1);
  const volume = volumes.Volumes[0];
  assert.equal(volume.VolumeId, instance.BlockDeviceMappings[0].Ebs.VolumeId);
  assert.deepEqual([volume.Size, volume.VolumeType, volume.Iops, volume.Throughput], [100, "gp3", 7000, 437]);
  assert.equal(volume.Attachments[0].InstanceId, ids[0]);
  assert.equal(volume.Attachments[0].Device, "/dev/sda1");
  assert.equal(volume.Attachments[0].DeleteOnTermination, true);
  const recorded = await admin("GET", "/_admin/instances");
  const mine = recorded.instances.find((i) => i.instance_id === ids[0]);
  assert.deepEqual(
    [mine.block_devices[0].volume_size, mine.block_devices[0].volume_type, mine.block_devices[0].iops, mine.block_devices[0].throughput],
    [100, "gp3", 7000, 437],
  );
});

await check("a security group is made, opened, described and deleted", async () => {
  const name = "skyd-ports-" + cluster;
  const made = await ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: name,
      Description: "sdk check",
      TagSpecifications: [{ ResourceType: "security-group", Tags: [{ Key: "skyd-cluster", Value: cluster }] }],
    }),
  );
  assert.match(made.GroupId, /^sg-[0-9a-f]{17}$/);
  await assert.rejects(
    ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: "again" })),
    (error) => error.name === "InvalidGroup.Duplicate",
  );
  const rule = { IpProtocol: "tcp", FromPort: 9000, ToPort: 9001, IpRanges: [{ CidrIp: "0.0.0.0/0" }] };
  await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: made.GroupId, IpPermissions: [rule] }));
  await assert.rejects(
    ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: made.GroupId, IpPermissions: [rule] })),
    (error) => error.name === "InvalidPermission.Duplicate",
  );
  const found = await ec2.send(
    new DescribeSecurityGroupsCommand({ Filters: [{ Name: "tag:skyd-cluster", Values: [cluster] }] }),
  );
  assert.equal(found.SecurityGroups.length, 1);
  const group = found.SecurityGroups[0];
  assert.equal(group.GroupName, name);
  assert.equal(group.IpPermissions[0].FromPort, 9000);
  assert.equal(group.IpPermissions[0].ToPort, 9001);
  assert.equal(group.IpPermissions[0].IpRanges[0].CidrIp, "0.0.0.0/0");
  assert.equal(group.Tags[0].Value, cluster);
  await ec2.send(new DeleteSecurityGroupCommand({ GroupId: made.GroupId }));
  const gone = await ec2.send(
    new DescribeSecurityGroupsCommand({ Filters: [{ Name: "group-name", Values: [name] }] }),
  );
  assert.equal(gone.SecurityGroups.length, 0);
});

await check("an unknown instance id comes back as the SDK's named error", async () => {
  await assert.rejects(
    ec2.send(new DescribeInstancesCommand({ InstanceIds: ["i-00000000000000000"] })),
    (error) => error.name === "InvalidInstanceID.NotFound" && error.$metadata.httpStatusCode === 400,
  );
});

await check("a wrong secret is AuthFailure (401) from the signature check", async () => {
  const bad = new EC2Client({
    region: "us-east-1",
    endpoint,
    credentials: { ...credentials, secretAccessKey: "wrong" },
    maxAttempts: 1,
  });
  await assert.rejects(
    bad.send(new DescribeInstancesCommand({})),
    (error) => error.name === "AuthFailure" && error.$metadata.httpStatusCode === 401,
  );
});

await check("RequestLimitExceeded is retried by the SDK's standard retry mode", async () => {
  await admin("POST", "/_admin/faults", { action: "DescribeInstances", code: "RequestLimitExceeded", count: 1 });
  const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
  assert.equal(out.$metadata.attempts, 2);
});

await check("an on-demand instance with a profile stops and starts again", async () => {
  const made = await ec2.send(
    new RunInstancesCommand({
      ImageId: "ami-0a1b2c3d4e5f60718",
      InstanceType: "m6i.xlarge",
      MinCount: 1,
      MaxCount: 1,
      IamInstanceProfile: { Name: "skyd-controller" },
    }),
  );
  const id = made.Instances[0].InstanceId;
  const stateOf = async () => {
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    return out.Reservations[0].Instances[0];
  };
  const waitFor = async (name) => {
    for (let i = 0; i < 200; i++) {
      const instance = await stateOf();
      if (instance.State.Name === name) return instance;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.fail(`${id} never became ${name}`);
  };
  const running = await waitFor("running");
  assert.equal(
    running.IamInstanceProfile.Arn,
    "arn:aws:iam::123456789012:instance-profile/skyd-controller",
  );
  assert.match(running.IamInstanceProfile.Id, /^AIPA/);
  const stopping = await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
  assert.equal(stopping.StoppingInstances.length, 1);
  assert.equal(stopping.StoppingInstances[0].InstanceId, id);
  assert.deepEqual(stopping.StoppingInstances[0].CurrentState, { Code: 64, Name: "stopping" });
  assert.deepEqual(stopping.StoppingInstances[0].PreviousState, { Code: 16, Name: "running" });
  const stopped = await waitFor("stopped");
  assert.equal(stopped.State.Code, 80);
  assert.equal(stopped.StateReason.Code, "Client.UserInitiatedShutdown");
  assert.equal(stopped.IamInstanceProfile.Arn, running.IamInstanceProfile.Arn, "the profile stays");
  const starting = await ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));
  assert.deepEqual(starting.StartingInstances[0].CurrentState, { Code: 0, Name: "pending" });
  assert.deepEqual(starting.StartingInstances[0].PreviousState, { Code: 80, Name: "stopped" });
  await waitFor("running");
  await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
  await waitFor("terminated");
});

await check("a one-time spot instance cannot be stopped", async () => {
  await assert.rejects(
    ec2.send(new StopInstancesCommand({ InstanceIds: [ids[0]] })),
    (error) => error.name === "UnsupportedOperation" && error.$metadata.httpStatusCode === 400,
  );
});

await check("TerminateInstances reports shutting-down and leaves nothing running", async () => {
  const out = await ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }));
  assert.equal(out.TerminatingInstances.length, 2);
  for (const change of out.TerminatingInstances) {
    assert.equal(change.CurrentState.Name, "shutting-down");
    assert.equal(change.PreviousState.Name !== undefined, true);
  }
  const stats = await admin("GET", "/_admin/stats");
  assert.equal(stats.live, 0);
  assert.equal(stats.signature_failures, 1, "only the wrong-secret call failed its signature");
});
