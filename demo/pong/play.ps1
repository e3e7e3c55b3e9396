# Starts Pong on Windows: hosts a game by default. Extra arguments go to the
# game, e.g.:
#   .\play.ps1                  host a game (default)
#   .\play.ps1 -join K7Q2       join a game seen on the LAN
#   .\play.ps1 -local           play against the bot
# Windows needs no C compiler: ebiten's window is pure Go there. If scripts
# are blocked, run it as: powershell -ExecutionPolicy Bypass -File .\play.ps1
$ErrorActionPreference = 'Stop'
Set-Location -Path $PSScriptRoot

if (-not (Get-Command go -ErrorAction SilentlyContinue)) {
    $want = (Select-String -Path go.mod -Pattern '^go (.+)$').Matches[0].Groups[1].Value
    Write-Error "play.ps1: Go is not installed. Install Go $want or newer (winget install GoLang.Go, or https://go.dev/doc/install), open a new terminal, then run this again."
    exit 1
}

$gameArgs = $args
if ($gameArgs.Count -eq 0) { $gameArgs = @('-host') }
# Hosting: Windows Defender Firewall asks once whether pong may accept
# connections; allow it on private networks so LAN friends can join.
& go run . @gameArgs
exit $LASTEXITCODE
