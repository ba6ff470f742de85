#!/usr/bin/env bash
# The AWS CLI (botocore's parsers, an independent client) against fakecloud's catalog APIs:
# DescribeInstanceTypes, DescribeInstanceTypeOfferings and DescribeSpotPriceHistory (EC2 XML, pages
# followed through NextToken) and the Price List's GetProducts (JSON protocol, PriceList strings).
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
