"""Themes of r/selfhosted."""

from common.reddit.themes import Theme

SUBREDDIT = "selfhosted"

THEMES = (
    Theme(
        "backups",
        (
            "What is your backup strategy for {x}?",
            "I lost a year of data from {x}. Learn from my mistake",
            "Restic vs Borg vs Kopia for {x}",
        ),
        ("a home server", "Docker volumes", "a Nextcloud instance", "family photos"),
        (
            "I run about twenty containers and realised I have never tested a restore of {x}. "
            "What does a sane 3-2-1 setup look like for a home lab?",
            "My setup now: nightly restic snapshots to a second disk, weekly to an offsite "
            "bucket, and a monthly restore test into a throwaway VM.",
            "Databases need a dump or a consistent snapshot; copying the data directory of a "
            "running Postgres container gave me a backup that would not start.",
            "Monitoring the backup job itself matters: mine failed silently for two months "
            "because the credentials had expired.",
        ),
        (
            "A backup you have not restored is a hope, not a backup.",
            "Dump databases before the file backup runs.",
            "Healthchecks.io ping at the end of the backup script. Alert if it does not arrive.",
            "Restic to Backblaze B2 has been cheap and reliable for me.",
            "Kopia's UI convinced my partner to back up her laptop too.",
            "Offsite means a different building, not a different disk.",
        ),
    ),
    Theme(
        "reverseproxy",
        (
            "Traefik vs Caddy vs Nginx Proxy Manager for {x}",
            "Exposing {x} to the internet safely",
            "Cloudflare Tunnel or a VPN for {x}?",
        ),
        ("home services", "Home Assistant", "a media server", "self-hosted apps"),
        (
            "I want to reach {x} from outside without opening ports on the router. Options I "
            "see: Cloudflare Tunnel, Tailscale, WireGuard, or a reverse proxy with TLS.",
            "Caddy with automatic certificates was the simplest: a ten-line config and every "
            "service had HTTPS.",
            "For anything with a login page I put it behind an identity-aware proxy or the VPN; "
            "brute force attempts started within hours of exposing a port.",
        ),
        (
            "Tailscale for everything private, Cloudflare Tunnel for the few public things.",
            "Caddy is the least painful reverse proxy I have used.",
            "Fail2ban or CrowdSec if you expose anything directly.",
            "Do not expose the admin UIs. Ever.",
            "Authelia in front of everything fixed my anxiety about exposed services.",
        ),
    ),
    Theme(
        "llmhosting",
        (
            "Self-hosting {x} on a home server: is it worth it?",
            "Running {x} next to the rest of my homelab",
            "Private AI at home: {x} setup guide and lessons",
        ),
        ("an LLM", "Open WebUI and Ollama", "a local ChatGPT alternative", "LLM agents"),
        (
            "I added {x} to my homelab so family members can use a chat assistant without "
            "sending data to a cloud provider. A used GPU and Ollama in Docker did the job.",
            "GPU passthrough into a Proxmox VM took an evening; the Docker container then "
            "needed the NVIDIA container toolkit and nothing else.",
            "The idle power draw of the GPU is the hidden cost: about 25 watts around the clock.",
            "Backups matter here too: chat history and uploaded documents live in a volume "
            "that was not in my backup set at first.",
        ),
        (
            "Open WebUI plus Ollama is the easiest self-hosted ChatGPT replacement.",
            "Watch the idle power of the GPU; it adds up over a year.",
            "Put it behind your VPN; do not expose the model endpoint.",
            "A 12 GB card runs 8B to 14B models comfortably.",
            "Set up per-user accounts; my kids found the admin settings on day one.",
            "Pin the image versions, updates broke my setup twice.",
        ),
    ),
    Theme(
        "monitoring",
        (
            "How do you monitor {x}?",
            "Uptime Kuma, Grafana or something else for {x}?",
            "Alerts for {x} without alert fatigue",
        ),
        ("a homelab", "docker containers", "disk health", "self-hosted services"),
        (
            "I only notice failures in {x} when someone in the house complains. Time to set up "
            "real monitoring without turning it into a second job.",
            "Uptime Kuma for HTTP checks and notifications to my phone covered 90 percent of "
            "what I needed in about half an hour.",
            "Prometheus with node exporter and a Grafana dashboard is great but easy to overdo; "
            "I alert only on disk space, SMART errors and services being down.",
        ),
        (
            "Uptime Kuma is the right amount of monitoring for a homelab.",
            "Alert on SMART errors. Disks warn you before they die.",
            "Disk full is the number one homelab outage.",
            "ntfy for notifications, self-hosted of course.",
            "Grafana dashboards are fun to build and rarely looked at.",
        ),
    ),
    Theme(
        "containers",
        (
            "Docker Compose vs {x} for a homelab",
            "{x} in a homelab: worth the complexity?",
            "Migrating my homelab to {x}",
        ),
        ("Kubernetes", "Podman", "Proxmox LXCs", "k3s", "Nomad"),
        (
            "Everything runs in Docker Compose today, one file per service. {x} keeps coming up "
            "and I am not sure the complexity is worth it for fifteen services.",
            "Automatic updates broke things twice, so now I pin versions and update once a "
            "month after reading the changelogs.",
            "Keeping compose files in git with a simple deploy script gave me most of the "
            "benefits people mention for GitOps.",
        ),
        (
            "Compose is plenty for a homelab. Kubernetes is a hobby in itself.",
            "Pin versions and read changelogs; auto-update is a gamble.",
            "Git plus compose plus a script is underrated GitOps.",
            "Podman rootless has been solid for me.",
            "LXCs on Proxmox are lighter than VMs for most services.",
        ),
    ),
)
