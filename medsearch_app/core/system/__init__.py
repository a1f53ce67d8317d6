"""The system room: the machine and the data folder — offline switches set before any library
loads, private file permissions, content hashes, memory and CPU readings, deleting all my data."""
