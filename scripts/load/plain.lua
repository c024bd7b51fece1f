dofile(os.getenv("LOAD_DIR") .. "/report.lua")
