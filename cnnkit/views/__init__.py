"""What the dashboard's pages show, computed without Streamlit: one module per page.

The pages in pages/ only read the store, call cnnkit and draw; the tables, labels, titles and
estimates they draw are made here, where they can be unit-tested. (The rows these are built from
come from the store; the Compare page's work lives in cnnkit.compare.)
"""
