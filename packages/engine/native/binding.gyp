{
  "targets": [
    {
      "target_name": "pilotage_spawn",
      "sources": ["spawn.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
