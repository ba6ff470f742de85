#!/usr/bin/env bash
# The AWS CLI (botocore's parsers, an independent client) against fakecloud's catalog APIs:
# DescribeInstanceTypes (also narrowed by --instance-types), DescribeInstanceTypeOfferings and DescribeSpotPriceHistory (EC2 XML, pages
# followed through NextToken) and the Price List's GetProducts (JSON protocol, PriceList strings);
# then a controller VM's calls: RunInstances with an instance profile, StopInstances, StartInstances.
# Usage: run_aws_cli_check.sh FAKECLOUD_BINARY CATALOG_DIR. Exit 77 (skipped) without `aws`.
set -euo pipefail
fakecloud=$1
catalog=$2
if ! command -v aws >/dev/null; then
  echo "SKIP: the AWS CLI is not installed (Debian: apt-get install awscli)"
  exit 77
fi
# shellcheck source=../start_fakecloud.sh
. "$(dirname "$0")/../start_fakecloud.sh"
start_fakecloud "$fakecloud" --catalog "$catalog"
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
export AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent
url="http://127.0.0.1:$port"
expect() {  # NAME EXPECTED ACTUAL
  if [ "$2" != "$3" ]; then
    echo "FAIL: $1: expected '$2', got '$3'"; tail -n 30 "$dir/fakecloud.log"; exit 1
  fi
  echo "ok: $1 = $3"
}
# Small pages, so the CLI must follow NextToken to see everything (text output prints a query's
# answer per page, so the items are counted, not measured with length()).
expect "instance types in us-east-1" \
  "$(awk -F, '$0 ~ /,us-east-1,us-east-1[a-z](,|$)/ {print $1}' "$catalog/aws/vms.csv" | sort -u | wc -l)" \
  "$(aws ec2 describe-instance-types --endpoint-url "$url" --page-size 5 \
       --query 'InstanceTypes[].InstanceType' --output text | wc -w)"
expect "p4de.24xlarge GPUs" "A100 8 81920" \
  "$(aws ec2 describe-instance-types --endpoint-url "$url" --page-size 100 \
       --query 'InstanceTypes[?InstanceType==`p4de.24xlarge`].[GpuInfo.Gpus[0].Name, GpuInfo.Gpus[0].Count, GpuInfo.Gpus[0].MemoryInfo.SizeInMiB]' \
       --output text | tr '\t' ' ')"
expect "p4d.24xlarge EFA" "True 4" \
  "$(aws ec2 describe-instance-types --endpoint-url "$url" --page-size 100 \
       --query 'InstanceTypes[?InstanceType==`p4d.24xlarge`].[NetworkInfo.EfaSupported, NetworkInfo.EfaInfo.MaximumEfaInterfaces]' \
       --output text | tr '\t' ' ')"
# InstanceType.N: only the named types; a type the region does not sell refuses the call.
expect "describe-instance-types --instance-types" "m6i.large p4d.24xlarge" \
  "$(aws ec2 describe-instance-types --endpoint-url "$url" --instance-types m6i.large p4d.24xlarge \
       --query 'InstanceTypes[].InstanceType' --output text | tr '\t' '\n' | sort | tr '\n' ' ' | sed 's/ $//')"
expect "an unknown type" "InvalidInstanceType [m5.nonesuch]" \
  "$(aws ec2 describe-instance-types --endpoint-url "$url" --instance-types m5.nonesuch 2>&1 >/dev/null |
       sed -n 's/.*(\(InvalidInstanceType\)).*exist: \(\[.*\]\).*/\1 \2/p')"
expect "zone offerings in us-east-1" \
  "$(awk -F, '$0 ~ /,us-east-1,us-east-1[a-z](,|$)/' "$catalog/aws/vms.csv" | wc -l)" \
  "$(aws ec2 describe-instance-type-offerings --endpoint-url "$url" \
       --location-type availability-zone --page-size 7 \
       --query 'InstanceTypeOfferings[].Location' --output text | wc -w)"
expect "m6i.large spot price in us-east-1a" "0.0365" \
  "$(aws ec2 describe-spot-price-history --endpoint-url "$url" --page-size 9 \
       --product-descriptions Linux/UNIX \
       --query 'SpotPriceHistory[?InstanceType==`m6i.large` && AvailabilityZone==`us-east-1a`].SpotPrice' \
       --output text)"
price=$(aws pricing get-products --endpoint-url "$url" --service-code AmazonEC2 --page-size 3 \
  --filters Type=TERM_MATCH,Field=regionCode,Value=us-east-1 \
            Type=TERM_MATCH,Field=operatingSystem,Value=Linux \
            Type=TERM_MATCH,Field=instanceType,Value=m6i.large \
  --query 'PriceList[0]' --output text)
expect "m6i.large on-demand USD" '"USD":"0.096"' "$(grep -o '"USD":"[0-9.]*"' <<<"$price")"
expect "Linux products in us-east-1" \
  "$(awk -F, '$0 ~ /,us-east-1,us-east-1[a-z](,|$)/ {print $1}' "$catalog/aws/vms.csv" | sort -u | wc -l)" \
  "$(aws pricing get-products --endpoint-url "$url" --service-code AmazonEC2 --page-size 4 \
       --filters Type=TERM_MATCH,Field=regionCode,Value=us-east-1 \
                 Type=TERM_MATCH,Field=operatingSystem,Value=Linux \
       --query 'PriceList[]' --output json | grep -c '"product')"
# A controller VM's life: an on-demand instance with an instance profile, stopped and started.
id=$(aws ec2 run-instances --endpoint-url "$url" --image-id ami-0a1b2c3d4e5f60718 \
       --instance-type m6i.xlarge --count 1 --iam-instance-profile Name=skyd-controller \
       --query 'Instances[0].InstanceId' --output text)
state_of() {
  aws ec2 describe-instances --endpoint-url "$url" --instance-ids "$id" \
    --query 'Reservations[0].Instances[0].State.Name' --output text
}
wait_state() {  # NAME: polls DescribeInstances (the CLI's own waiters sleep 15 s between polls)
  for _ in $(seq 1 100); do [ "$(state_of)" = "$1" ] && return 0; sleep 0.1; done
  return 1
}
wait_state running
expect "the profile in DescribeInstances" "arn:aws:iam::123456789012:instance-profile/skyd-controller" \
  "$(aws ec2 describe-instances --endpoint-url "$url" --instance-ids "$id" \
       --query 'Reservations[0].Instances[0].IamInstanceProfile.Arn' --output text)"
state_change() {  # COMMAND LIST: the current and previous state of the answer's one instance
  aws ec2 "$1" --endpoint-url "$url" --instance-ids "$id" \
    --query "$2[0].[CurrentState.Name, CurrentState.Code, PreviousState.Name, PreviousState.Code]" \
    --output text | tr '\t' ' '
}
expect "stop-instances" "stopping 64 running 16" "$(state_change stop-instances StoppingInstances)"
wait_state stopped
expect "stopped" "stopped" "$(state_of)"
expect "start-instances" "pending 0 stopped 80" "$(state_change start-instances StartingInstances)"
wait_state running
expect "running again" "running" "$(state_of)"
aws ec2 terminate-instances --endpoint-url "$url" --instance-ids "$id" >/dev/null
