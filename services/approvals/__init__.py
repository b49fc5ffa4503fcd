"""approvals: the education bureau's decisions on campus-entry applications and the semester list."""
