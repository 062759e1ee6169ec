-- hwcloud.cli.help: what `hwcloud --help` and `hwcloud COMMAND --help`
-- print. README's CLI section says the same; change both together.

local _M = {}

_M.GLOBAL = [[
Options (every command):
  --region REGION       region (default: HUAWEICLOUD_SDK_REGION)
  --endpoint URL        one base URL for every service (default: HWCLOUD_ENDPOINT)
  --profile NAME        a [NAME] section of ~/.huaweicloud/credentials
                        (HUAWEICLOUD_SDK_CREDENTIALS_FILE names another file)
  --project-id ID       project id (default: HUAWEICLOUD_SDK_PROJECT_ID)
  --timeout SECONDS     per request (default 30)
  --retries N           tries after the first for a failed request (default 2)
  --ca-file PATH        CA certificates to trust (default: HWCLOUD_CA_FILE)
  --quiet               no progress on stderr
  -h, --help            this help, or a command's
  --version             the version of hwcloud
Credentials, the first source that has them:
  1. --profile NAME (its ak, sk, security_token, project_id, region);
  2. the environment: HUAWEICLOUD_SDK_AK, _SK[, _SECURITY_TOKEN, _PROJECT_ID,
     _DOMAIN_ID];
  3. the credentials file's [basic] (or [global]) section;
  4. the ECS metadata service (the instance agency's temporary keys).
Exit status: 0 success, 1 the cloud or the network refused, 2 usage or validation.]]

_M.COMMAND = {
  main = [=[
usage: hwcloud COMMAND [ARGS] [OPTIONS]

Commands:
  ops [SERVICE]                       the services, or a service's operations
  describe SERVICE OPERATION          an operation's method, path and fields
  call SERVICE OPERATION [field=value ...] [--json JSON|@FILE]
       [--wait] [--all] [--dry-run] [--journal PATH]
                                      call an operation, print its answer as JSON
  wait SERVICE JOB_ID ... [field=value ...]
                                      wait for jobs to end
  wait-for SERVICE WAITER [field=value ...]
                                      wait for a resource to reach a state
  request METHOD PATH --service S [--query k=v ...] [--json JSON|@FILE] [--dry-run]
                                      a request to any path of a service
  endpoints SERVICE ...               the URL each service is reached at
  run SCRIPT.lua [ARGS ...]           run a workflow script with a ready client
  obs cp SRC DST [--no-checksum] | obs ls [obs://BUCKET[/PREFIX]] |
      obs mb obs://BUCKET             copy files to and from object storage, list it
  completion bash|zsh|fish            print a shell's completion script

`hwcloud COMMAND --help` says more about each.]=],
  ops = [=[
usage: hwcloud ops [SERVICE]

Without SERVICE: the services, one a line. With SERVICE: its operations, one
a line, with method and path; aliases as "alias -> operation".]=],
  describe = [=[
usage: hwcloud describe SERVICE OPERATION

The method, the path and every request and response field, by the dotted name
`call` takes (spec.ingress.port), with its type, `required`, where it goes
(path, query, header, body) and its allowed values.]=],
  call = [=[
usage: hwcloud call SERVICE OPERATION [field=value ...] [--json JSON|@FILE]
                    [--wait [--wait-timeout S]] [--all] [--dry-run] [--journal PATH]

Fields are typed from the operation's description:
  update_access_agent=false   a boolean (true or false)
  limit=10                    an integer; number fields take 1.5
  spec.ingress.port=80        a field of a nested object
  names=a names=b             an array: repeat the field, one element each
  input_values:='{"k":1}'     `:=` takes the value as JSON, whatever the type
Anything else is a string. --json gives the request as one JSON object (or
@FILE to read it from a file); field=value pairs are set on top of it.
The request is validated before it is sent, with the library's errors.

  --wait          when the operation starts a job, wait for it to end (progress
                  on stderr) and print the job's final state
  --wait-timeout  seconds to wait (default 1800)
  --all           follow the pages of a list operation and print every item
  --dry-run       print the request (method, URL, headers, body) with the
                  signature and secrets masked, and send nothing
  --query PATH    print only this part of the answer: `job_id`, `items[].id`
                  (every element), `items[0].name` (one element, from 0)
  --output FMT    json (default), table (columns with a header) or tsv
  --journal PATH  record the call (and its --wait) in the journal PATH: run
                  again after a crash, an answered call is not sent again and
                  one sent without a recorded answer is not repeated when it
                  is not safe to (see client:parallel's journal)]=],
  wait = [=[
usage: hwcloud wait SERVICE JOB_ID ... [field=value ...] [--wait-timeout S]

Waits for jobs of SERVICE to end (any service with jobs: ecs, cce, rds, elb,
...; the id is the one its job-starting operations answer), with one
progress line on stderr; prints {"<id>": final job, ...}. field=value pairs
give what the service's poll needs besides the id (cse engine_id=...,
codeartspipeline pipeline_id=..., codeartsdeploy task_id=...).
Exit 0 when every job succeeded, 1 when one failed or timed out.]=],
  ["wait-for"] = [=[
usage: hwcloud wait-for SERVICE WAITER [field=value ...] [--json JSON|@FILE]
                        [--wait-timeout S]

Polls the resource the fields name until it is in the WAITER's state, with
one progress line on stderr, and prints its last answer (true when a waiter
that accepts a deleted resource found it gone). Fields are typed as `call`
types them, from the waiter's operation. Without WAITER: lists SERVICE's
waiters (ecs: server_active, server_shutoff, server_deleted).
Exit 0 when the state was reached, 1 when it failed or timed out.]=],
  request = [=[
usage: hwcloud request METHOD PATH --service SERVICE [--query k=v ...]
                       [--json JSON|@FILE] [--dry-run]

Sends a signed request to PATH of SERVICE's endpoint ({project_id} in PATH is
the project id) and prints the answer as JSON.]=],
  endpoints = [=[
usage: hwcloud endpoints SERVICE ...

Prints the URL each SERVICE is reached at with these options (--region,
--endpoint): the catalog's host for the region, or for a service the catalog
lacks the host made from its name, as `hwcloud request` uses it.]=],
  run = [=[
usage: hwcloud run [--journal PATH] SCRIPT.lua [ARGS ...]

Runs SCRIPT.lua with a client made from the same options. The script gets
the client and its arguments as its varargs, with no global:

  local client, server_id = ...
  local job = assert(client.workspaceapp:reinstall_server{ server_id = server_id })
  assert(client:wait(job))

(`arg` is set as lua5.4 sets it.) A script that raises exits 1; one that
returns an integer exits with it; otherwise 0. Options go before SCRIPT.
--journal PATH: the script's client:parallel and client:wait_all calls use
the journal PATH unless they name their own, so the script run again after a
crash resumes where it was (each fan-out keyed apart by its label).]=],
  obs = [=[
usage: hwcloud obs cp FILE obs://BUCKET/KEY      upload (in parts when large)
       hwcloud obs cp obs://BUCKET/KEY FILE      download
       hwcloud obs cp SRC DST --no-checksum      either, without the MD5 check
       hwcloud obs ls [obs://BUCKET[/PREFIX]]    the buckets, or a bucket's keys
       hwcloud obs mb obs://BUCKET               make a bucket

Files stream from and to disk; a file over 64 MiB goes up, and an object
over 16 MiB comes down, in parts of 16 MiB, four at a time, with progress
on stderr. ls prints one line per key (size, date, key) and
one per common prefix ("PRE prefix/"), as far as the next "/".

cp checks the bytes it moves: their MD5 against the ETag OBS answers (the
object's, or each part's); bytes that do not match are an error (exit 1).

  --no-checksum   cp: neither hash the bytes nor compare them with the ETag
                  (for large files checked another way: the MD5 is most of
                  the CPU time of a transfer)]=],
  completion = [=[
usage: hwcloud completion bash|zsh|fish

Prints the completion script of a shell: commands, the options each command
takes, services, operations, fields and the values of enum and boolean
fields (the last four asked of hwcloud as you type):
  eval "$(hwcloud completion bash)"               # in ~/.bashrc, or
  hwcloud completion bash > ~/.local/share/bash-completion/completions/hwcloud
  hwcloud completion zsh > "${fpath[1]}/_hwcloud"
  hwcloud completion fish > ~/.config/fish/completions/hwcloud.fish]=],
}

-- text(command) -> the command's help (the overview for nil or an unknown
-- one) with the options every command takes
function _M.text(command)
  return (_M.COMMAND[command] or _M.COMMAND.main) .. "\n\n" .. _M.GLOBAL .. "\n"
end

return _M
